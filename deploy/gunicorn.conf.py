"""gunicorn settings for estate-complaints behind nginx (deploy/nginx.conf).

    gunicorn -c deploy/gunicorn.conf.py 'formserver:create_app()'

Used by deploy/estate-complaints.service and by tests/test_deploy.py. Command-line options win
over these (the test passes its own --bind).
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from formserver.logtext import printable

# Only nginx talks to gunicorn.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: nginx buffers uploads and responses, so a slow phone never holds a worker.
# 2 x cores + 1, capped small: a complaint form on a small server needs few.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 5)))
worker_class = "sync"
timeout = 30  # a worker silent this long is restarted
graceful_timeout = 30
keepalive = 2
max_requests = 1000  # recycle workers now and then (memory from image processing)
max_requests_jitter = 100

# Trust X-Forwarded-* (the scheme) only from nginx on this machine. The app's client address
# and scheme come from werkzeug's ProxyFix (FORMSERVER_PROXY_FIX=true), which trusts one hop.
forwarded_allow_ips = "127.0.0.1"

# Request limits: nothing a browser sends for this site comes near them.
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190

# Logs to stdout/stderr, i.e. the journal. No query strings (%(U)s is the path alone, unlike
# %(r)s), no bodies, no referrers, no client addresses (behind nginx they are all 127.0.0.1;
# nginx's own access log has them): nothing a resident typed reaches a log.
accesslog = "-"
access_log_format = '"%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


class EscapingLogger(Logger):
    """gunicorn's logger, with control characters in what the client sent escaped: a path
    with %0a would otherwise write a forged line into the log, and %1b terminal commands."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("m", "U", "H"):
            atoms[name] = printable(str(atoms[name] or "-"))
        return atoms


logger_class = EscapingLogger
errorlog = "-"
loglevel = "info"
proc_name = "estate-complaints"

# gunicorn 27's control socket (gunicornc) would go to $HOME/.gunicorn/: not used here, and the
# service may write only to the instance folder. (Older gunicorns ignore this setting.)
control_socket_disable = True


