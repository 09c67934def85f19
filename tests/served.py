"""Real gunicorn processes on loopback, started as README says, and WeChat's server as a client of them."""

from __future__ import annotations

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from wechat_user import AES_KEY, APP_ID, TOKEN

from handlers.wechat_platform import Account, ReplyError, deliver, message_xml, open_reply

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = Account(TOKEN, AES_KEY, APP_ID)
#: WeChat closes a connection after 5 s and tries a message three times in all.
WECHAT_WAIT_SECONDS, WECHAT_TRIES = 5.0, 3


#: The served knowledge of a server started without its own KNOWLEDGE_DIR keeps this many alternates per entry
#: and examples per out-of-scope topic: these servers test delivery under faults, not matching, and each one's
#: master trains its matcher before serving (about 20 s on the whole base, about 3 s on this one).
SMALL_ALTERNATES, SMALL_EXAMPLES = 12, 8


@cache
def small_knowledge() -> Path:
    """The project's knowledge folder with fewer training questions, made once per test run."""
    target = Path(tempfile.mkdtemp(prefix="faqbot-small-knowledge-")) / "knowledge"
    atexit.register(shutil.rmtree, target.parent, ignore_errors=True)
    shutil.copytree(ROOT / "knowledge", target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for path in (target / "faqs").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for faq in data["faqs"]:
            faq["alternates"] = faq.get("alternates", [])[:SMALL_ALTERNATES]
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    topics = yaml.safe_load((target / "out_of_scope.yaml").read_text(encoding="utf-8"))
    for topic in topics:
        topic["examples"] = topic["examples"][:SMALL_EXAMPLES]
    (target / "out_of_scope.yaml").write_text(yaml.safe_dump(topics, allow_unicode=True, sort_keys=False), "utf-8")
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn 'app:create_app()'` in the project folder (so gunicorn.conf.py applies) on its own port and files,
    serving `small_knowledge()` unless the settings name a KNOWLEDGE_DIR."""

    def __init__(self, folder: Path, workers: int = 2, **settings: str):
        self.folder = folder
        self.workers = workers
        self.port = free_port()
        self.error_log, self.access_log = folder / "error.log", folder / "access.log"
        self.database = Path(settings.pop("DATABASE", folder / "data" / "bot.sqlite"))
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "API_", "KNOWLEDGE_"))}
        self.env = {
            **clean,
            "DATABASE": str(self.database),
            "KNOWLEDGE_STORE": str(folder / "knowledge-store"),
            "WECHAT_TOKEN": TOKEN,
            "WECHAT_AES_KEY": AES_KEY,
            "WECHAT_APP_ID": APP_ID,
            "SECRET_KEY": "fault-test-secret-key-of-32-characters!",
            "USER_HASH_SALT": "fault-test-salt-of-at-least-32-characters",
            "API_RATE_LIMIT_PER_IP": "0",
            "API_RATE_LIMIT_PER_SESSION": "0",
            "LOG_LEVEL": "INFO",
            "KNOWLEDGE_DIR": str(small_knowledge()),
            **settings,
        }
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> Gunicorn:
        """Start and wait until every worker has loaded the app (its `worker_ready` line); stopped if it does not.

        The master trains the matcher first: about 15 s alone, minutes on a 2-core machine that runs other suites.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        self.database.parent.mkdir(parents=True, exist_ok=True)
        offset = self.log_size()
        command = [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}"]
        command += ["--access-logfile", str(self.access_log), "app:create_app()"]
        with self.error_log.open("ab") as output:  # gunicorn's own lines and the app's, as an operator sees them
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT)
        try:
            self.wait_for(lambda: self.log(offset).count("worker_ready") >= self.workers, timeout, "workers ready")
        except BaseException:
            self.stop()  # a server that never came up must not stay behind, loading the machine for the next tests
            raise
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def worker_pids(self) -> list[int]:
        pids = []
        for children in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            pids += [int(pid) for pid in children.read_text().split()]
        return pids

    def ready_workers(self) -> list[int]:
        """Live workers that have logged `worker_ready` (a worker still booting takes no requests yet)."""
        ready = {int(pid) for pid in re.findall(r"worker_ready: pid=(\d+)", self.log())}
        return [pid for pid in self.worker_pids() if pid in ready]

    def kill_workers(self, pids: list[int] | None = None) -> list[int]:
        """SIGKILL workers (all by default), as the kernel's OOM killer or a crash would."""
        pids = self.worker_pids() if pids is None else pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids

    def log_size(self) -> int:
        return self.error_log.stat().st_size if self.error_log.exists() else 0

    def log(self, offset: int = 0) -> str:
        if not self.error_log.exists():
            return ""
        with self.error_log.open("rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def wait_for(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if not self.alive():
                raise AssertionError(f"gunicorn exited while waiting for {what}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout} s:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def get(self, path: str, timeout: float = 10) -> Answer:
        return self.request("GET", path, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None, headers=None, timeout: float = 10) -> Answer:
        request = urllib.request.Request(self.base + path, body, headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def ask(self, text: str, timeout: float = 15) -> Answer:
        body = json.dumps({"text": text}).encode()
        return self.request("POST", "/api/v1/ask", body, {"Content-Type": "application/json"}, timeout)

    def health(self) -> int:
        return self.get("/healthz", timeout=5).status


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Message:
    """One user message as WeChat's server handles it: up to three tries, each given 5 s."""

    msg_id: int
    text: str
    user: str
    tries: list[str] = field(default_factory=list)  # "200", "503", "timeout", "reset" per try
    reply: str | None = None

    @property
    def answered(self) -> bool:
        """An empty `success` is no answer to a question: it only ends WeChat's retries."""
        return bool(self.reply)


def wechat_sends(server: Gunicorn, message: Message, wait: float = WECHAT_WAIT_SECONDS) -> Message:
    """Post `message` as WeChat does; retry (same query and body) on no answer within `wait`, a reset or an error."""
    delivery = deliver(
        ACCOUNT,
        message.user,
        message_xml(ACCOUNT, message.user, "text", {"Content": message.text}, message.msg_id),
        "aes",
    )
    url = f"{server.base}/wechat?{urllib.parse.urlencode(delivery.query)}"
    for _ in range(WECHAT_TRIES):
        request = urllib.request.Request(url, delivery.body, {"Content-Type": "text/xml"})
        try:
            with urllib.request.urlopen(request, timeout=wait) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            message.tries.append(str(error.code))
            continue
        except TimeoutError:
            message.tries.append("timeout")
            continue
        except (urllib.error.URLError, http.client.HTTPException, OSError):  # refused, reset, cut off mid-reply
            message.tries.append("reset")
            time.sleep(1)
            continue
        message.tries.append("200")
        try:
            message.reply = open_reply(ACCOUNT, delivery, body).content or ""
        except ReplyError as error:
            message.reply = None
            message.tries[-1] = f"bad reply: {error}"
        return message
    return message


def failed_in_log(log: str, message: Message) -> list[str]:
    """The reasons the server logged for giving up on this message (`message_failed ... key=wechat:<MsgId>`)."""
    return re.findall(rf"message_failed: channel=wechat key=wechat:{message.msg_id} user=\w+ reason=(.+)", log)
