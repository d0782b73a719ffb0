"""The complaint form server.

    flask --app formserver run              # the embedded default
    gunicorn 'formserver:create_app()'      # production
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader

from .config import PROJECT_ROOT, load_config

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    load_config(app, test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # One look: the form's pages extend the site's own base layout.
    app.jinja_loader = ChoiceLoader([FileSystemLoader(Path(__file__).parent / "templates"),
                                     FileSystemLoader(PROJECT_ROOT / "templates")])
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from . import cli, editions, errors, ratelimit, security, site, uploads
    from .views import cases, complaints, follow_ups, status

    uploads.init_app(app)  # before CSRF, which reads the form
    csrf.init_app(app)
    security.init_app(app)
    editions.init_app(app)
    site.init_app(app)
    errors.init_app(app)
    # The resident's flows in both scripts: /complaint and /zh-hans/complaint, and so on.
    # The office's case pages stay in the estate's script.
    for blueprint in (complaints.bp, follow_ups.bp, status.bp):
        app.register_blueprint(blueprint)
        app.register_blueprint(blueprint, url_prefix=editions.SIMPLIFIED_PREFIX,
                               name=f"{blueprint.name}_hans")
    app.register_blueprint(cases.bp)
    ratelimit.init_app(app)
    cli.init_app(app)
    if app.config["SERVE_SITE"]:
        site.serve_site(app)
    if app.config["DELIVER_IN_PROCESS"]:
        start_delivery_with_first_request(app)
    return app


def start_delivery_with_first_request(app: Flask) -> None:
    """Start the delivery thread in a process that serves requests, not in CLI commands
    (`flask --app formserver spool` must not start sending)."""
    from . import delivery

    lock = threading.Lock()

    @app.before_request
    def ensure_delivery_running():
        if "delivery" not in app.extensions:
            with lock:
                if "delivery" not in app.extensions:
                    delivery.start_in_process(app)
