"""gunicorn.conf.py's worker settings for the fixed-reply yardstick, without its hooks (they prepare the real app)."""

import runpy
from pathlib import Path

_shipped = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
worker_class = _shipped["worker_class"]
threads = _shipped["threads"]
timeout = _shipped["timeout"]
keepalive = _shipped["keepalive"]
limit_request_line = _shipped["limit_request_line"]
control_socket_disable = _shipped["control_socket_disable"]
