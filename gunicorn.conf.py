"""gunicorn's settings; gunicorn reads this file from the working directory by default.

So a plain `gunicorn 'app:create_app()'`, started in the project folder, is already safe:
- worker threads (gthread): a client that sends its request slowly holds one thread, not a whole worker;
  many slow clients still need a buffering proxy (nginx) in front, as README says;
- no query string in any log line: WeChat puts the user's openid and the signatures there;
- request lines up to 8190 bytes, so a search (`q`) of 500 characters reaches the API, which answers in JSON;
- the secrets and the database are created once, in the master, before any worker starts: a start that
  cannot create them stops here with the reason instead of leaving workers to fail one by one;
- the matcher is trained once, in the master, before any worker starts: every worker, and every replacement of
  a worker that died, starts with it (process-wide cache in bot.knowledge_source) instead of training its own;
- what a worker has loaded when it is ready is frozen out of garbage collection (gc.freeze). Not in the master:
  frozen there, the workers stopped noticing edited knowledge files (tests/test_faults.py, editors' test).
Command-line options still override these (`-w 4`, `-b 0.0.0.0:8000`, `--access-logfile -`).
"""

import gc
import sys
from urllib.parse import urlsplit

from gunicorn.glogging import Logger

from app import ConfigError, create_app, drop_query_strings, prepare_database

bind = "127.0.0.1:8000"
workers = 2
worker_class = "gthread"
threads = 8
timeout = 30
keepalive = 5
limit_request_line = 8190
control_socket_disable = True  # gunicorn 27 would listen on ~/.gunicorn/gunicorn.ctl; nothing here uses it


class PrivateLogger(Logger):
    """gunicorn's logger with query strings (openids, signatures) and referrer queries left out of every line."""

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.addFilter(drop_query_strings)  # "Error handling request /wechat?openid=…"

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} {environ.get('SERVER_PROTOCOL')}"
        atoms["q"] = "-"
        atoms["f"] = _without_query(atoms.get("f", "-"))
        for name in ("{query_string}e", "{raw_uri}e", "{request_uri}e"):
            atoms.pop(name, None)
        return atoms


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(query="", fragment="").geturl()


logger_class = PrivateLogger


def on_starting(server):
    """In the master, before any worker: generate the secrets and create the database once, or stop."""
    try:
        app = create_app(warm=False)  # trained below, in this thread
    except (ConfigError, ValueError) as error:
        sys.exit(f"faqbot cannot start: {error}")
    if not prepare_database(app.config["DATABASE"], app.config["DATABASE_URL"]):
        where = "DATABASE_URL" if app.config["DATABASE_URL"] else app.config["DATABASE"]
        sys.exit(f"faqbot cannot start: the database {where} cannot be opened (reason above)")
    app.extensions["bot"].close()  # no connection pool's thread may hold a lock when the workers are forked
    try:  # in this thread, so nothing is half-trained or holds a lock when the workers are forked
        app.extensions["knowledge"].current()
    except Exception as error:  # a broken base: each worker logs it too, and serves the error reply
        server.log.error("knowledge_not_loaded: %s", error)


def post_worker_init(worker):
    """Build the matcher before the first request (not during it), then log one line per ready worker."""
    source = worker.wsgi.extensions["knowledge"]
    # Usually the master's training is reused at once; a worker started after the files changed trains its own,
    # which takes longer than `timeout` with several on few cores: meanwhile tell the master it is alive.
    while not source.wait_for_warm(1.0):
        worker.notify()
    try:
        source.current()
    except Exception as error:  # a broken base: requests get the error reply; the log says why
        worker.log.error("knowledge_not_loaded: %s", error)
    # The app and the matcher live as long as the worker: the collector need not walk them at every collection
    # (it took 12-18 % of a request's time, and the long tail).
    gc.freeze()
    worker.log.info("worker_ready: pid=%s", worker.pid)
