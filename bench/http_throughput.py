"""Throughput of /api/v1/ask and /wechat (plaintext and safe mode) as a share of a fixed-reply server.

Run: `.venv/bin/python bench/http_throughput.py [--workers 2] [--clients 8] [--seconds 4] [--rounds 5]`.
It starts, on loopback, the fixed-reply yardstick (bench/fixed_reply.py, same gunicorn worker settings), the
real service on SQLite and, when Debian's redis-server and postgresql are installed, the real service on a
throw-away Redis + PostgreSQL (`.ci/engines`). Rounds are interleaved: in each, every endpoint is loaded on
every server in turn for `--seconds`, from client threads with keep-alive connections. It prints the median
requests per second of each, and the ratio real / fixed per endpoint and engine.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bot.matching.evaluation import read_labelled  # noqa: E402
from handlers.wechat_platform import Account, deliver, message_xml  # noqa: E402

TOKEN, AES_KEY, APP_ID = "benchtoken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxbench000000000"
ACCOUNT = Account(TOKEN, AES_KEY, APP_ID)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One gunicorn on loopback: the real app with gunicorn.conf.py, or the fixed-reply yardstick."""

    def __init__(self, name: str, workers: int, folder: Path, fixed: bool = False, **settings: str):
        self.name, self.port = name, free_port()
        env = {
            **os.environ,
            "DATABASE": str(folder / f"{name}.sqlite"),
            "WECHAT_TOKEN": TOKEN,
            "WECHAT_AES_KEY": AES_KEY,
            "WECHAT_APP_ID": APP_ID,
            "WECHAT_ALLOW_PLAINTEXT": "1",
            "API_RATE_LIMIT_PER_IP": "0",
            "API_RATE_LIMIT_PER_SESSION": "0",
            "LOG_LEVEL": "WARNING",
            **settings,
        }
        command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}"]
        if fixed:
            command += ["-c", "bench/fixed_reply_conf.py", "--pythonpath", "bench", "fixed_reply:create_app()"]
        else:
            command += ["app:create_app()"]
        log = (folder / f"{name}.log").open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"{self.name} did not come up")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def api_request(question: str, number: int) -> tuple[str, str, bytes, dict]:
    body = json.dumps({"text": question}, ensure_ascii=False).encode()
    return "POST", "/api/v1/ask", body, {"Content-Type": "application/json"}


def wechat_request(mode: str):
    def build(question: str, number: int) -> tuple[str, str, bytes, dict]:
        user = f"o_bench_{number % 50}"
        xml = message_xml(ACCOUNT, user, "text", {"Content": question}, 10**9 + number)
        delivery = deliver(ACCOUNT, user, xml, mode)
        return "POST", f"/wechat?{urllib.parse.urlencode(delivery.query)}", delivery.body, {"Content-Type": "text/xml"}

    return build


ENDPOINTS = {
    "POST /api/v1/ask": api_request,
    "POST /wechat (plaintext)": wechat_request("plain"),
    "POST /wechat (safe mode)": wechat_request("aes"),
}


def load(server: Server, build, questions: list[str], clients: int, seconds: float, counter) -> float:
    """Requests per second `clients` keep-alive connections get answered (200) in `seconds`."""
    done = [0] * clients
    failed = []
    deadline = time.monotonic() + seconds

    def client(slot: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        while time.monotonic() < deadline:
            number = next(counter)
            method, path, body, headers = build(questions[number % len(questions)], number)
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failed.append(response.status)
            done[slot] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise SystemExit(f"{server.name}: {len(failed)} requests failed, statuses {sorted(set(failed))}")
    return sum(done) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sqlite-only", action="store_true", help="skip the Redis + PostgreSQL run")
    args = parser.parse_args()
    questions = [item.text for item in read_labelled(ROOT / "knowledge" / "labelled" / "dev.jsonl")]
    counter = itertools.count()
    servers_for_engines = None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        servers = [
            Server("fixed", args.workers, folder, fixed=True),
            Server("sqlite", args.workers, folder),
        ]
        if not args.sqlite_only:
            try:
                from engines import Servers

                servers_for_engines = Servers()
                servers.append(Server("redis+postgres", args.workers, folder, **servers_for_engines.settings()))
            except BaseException as error:  # pytest.skip when the servers are not installed
                print(f"Redis + PostgreSQL skipped: {error}")
        try:
            for server in servers:
                server.wait_ready()
            rates: dict[tuple[str, str], list[float]] = defaultdict(list)
            for _ in range(args.rounds):
                for endpoint, build in ENDPOINTS.items():
                    for server in servers:
                        rates[server.name, endpoint].append(
                            load(server, build, questions, args.clients, args.seconds, counter)
                        )
            report(servers, rates, args)
        finally:
            for server in servers:
                server.stop()
            if servers_for_engines is not None:
                servers_for_engines.close()


def report(servers: list[Server], rates: dict, args) -> None:
    print(
        f"gunicorn -w {args.workers} (gthread), {args.clients} keep-alive clients, "
        f"{args.rounds} interleaved rounds of {args.seconds:g} s; median requests/s (ratio to fixed reply)"
    )
    names = [server.name for server in servers]
    print("| endpoint | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for endpoint in ENDPOINTS:
        fixed = statistics.median(rates["fixed", endpoint])
        cells = [f"{fixed:.0f}"]
        for name in names[1:]:
            real = statistics.median(rates[name, endpoint])
            ratios = [r / f for r, f in zip(rates[name, endpoint], rates["fixed", endpoint], strict=True)]
            cells.append(f"{real:.0f} ({real / fixed:.2f}; rounds {min(ratios):.2f}–{max(ratios):.2f})")
        print(f"| {endpoint} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
