"""An outsider's attack on the evidence files: the case page's downloads (tokens, file numbers,
ranges of every shape, conditional requests, headers), uploads that are malformed or lie about
their kind and size, both editions, the purge, and what logs and the office may learn. Real
clips (PyAV), a real SMTP server, the real `flask purge` under libfaketime."""

from __future__ import annotations

from pathlib import Path

from helpers import INSTANCE_PATHS, make_app, server_env

# --- the tests themselves keep every file of the server in their own folder --------------------

def test_the_tests_keep_every_folder_of_the_server_out_of_the_projects_instance_folder(
        tmp_path, smtp_server, built_site):
    """A test's purge deletes every case folder its own store does not know: run in the
    project's instance/ (a server's checkout), it would delete real residents' evidence."""
    from formserver import create_app

    bare = create_app({"SECRET_KEY": "x", "SITE_DIR": str(built_site), "TESTING": True,
                       "DELIVER_IN_PROCESS": False})
    instance = Path(bare.instance_path)
    in_instance = {key for key, value in bare.config.items()
                   if isinstance(value, str) and value.startswith(str(instance))}
    assert in_instance == set(INSTANCE_PATHS)
    app = make_app(tmp_path, smtp_server, built_site)
    assert {key: app.config[key] for key in INSTANCE_PATHS
            if not app.config[key].startswith(str(tmp_path))} == {}
    env = server_env(tmp_path, smtp_server, built_site)
    assert {key for key in INSTANCE_PATHS
            if not env.get(f"FORMSERVER_{key}", "").startswith(str(tmp_path))} == set()
