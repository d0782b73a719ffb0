"""The form server's floor: the same gunicorn, a bare Flask app that only checks CSRF.

    gunicorn -c deploy/gunicorn.conf.py --pythonpath bench 'floor_app:create_app()'

The same four requests as a real submission (bench/loadgen.py), with Flask-WTF's CSRFProtect
and a signed session cookie as in formserver, but nothing else: no validation, no draft, no
email, no spool. The multipart body is still parsed (CSRFProtect reads request.form).
"""

import os

from flask import Flask, redirect, session
from flask_wtf.csrf import CSRFProtect, generate_csrf

PAGE = ('<!doctype html><form method="post" enctype="multipart/form-data">'
        '<input id="csrf_token" name="csrf_token" type="hidden" value="{token}">'
        '<input id="form_started" name="form_started" type="hidden" value="0">'
        "</form>")


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("FORMSERVER_SECRET_KEY", "floor-secret")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    CSRFProtect(app)

    @app.get("/complaint")
    def form():
        return PAGE.format(token=generate_csrf())

    @app.post("/complaint")
    def post():
        session["draft"] = "x"
        return redirect("/complaint/review", 303)

    @app.get("/complaint/review")
    def review():
        return PAGE.format(token=generate_csrf())

    @app.post("/complaint/send")
    def send():
        return redirect("/complaint/sent", 303)

    return app
