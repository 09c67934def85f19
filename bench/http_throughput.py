"""Requests per second through the real HTTP stack: gunicorn workers on loopback, /api/v1/ask and /wechat (aes).

Run: `.venv/bin/python bench/http_throughput.py [--workers 2] [--clients 8] [--seconds 10]`.
It starts gunicorn on 127.0.0.1 with a throw-away database, sends dev-set questions for a bounded time from
client threads in this process, prints p50/p99 latency and throughput per endpoint, and stops the server.
"""

from __future__ import annotations

import argparse
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
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.matching.evaluation import read_labelled  # noqa: E402
from handlers.wechat_platform import Account, deliver, message_xml  # noqa: E402

TOKEN, AES_KEY, APP_ID = "benchtoken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxbench000000000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, database: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE": database,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_APP_ID": APP_ID,
        "API_RATE_LIMIT_PER_IP": "0",
        "API_RATE_LIMIT_PER_SESSION": "0",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "app:create_app()"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not come up")


def ask_api(base: str, question: str) -> None:
    body = json.dumps({"text": question}).encode()
    request = urllib.request.Request(f"{base}/api/v1/ask", body, {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def ask_wechat(base: str, question: str, number: int) -> None:
    account = Account(TOKEN, AES_KEY, APP_ID)
    user = f"o_bench_{number % 50}"
    delivery = deliver(account, user, message_xml(account, user, "text", {"Content": question}, number + 1), "aes")
    url = f"{base}/wechat?{urllib.parse.urlencode(delivery.query)}"
    request = urllib.request.Request(url, delivery.body, {"Content-Type": "text/xml"})
    urllib.request.urlopen(request, timeout=10).read()


def load(send, questions: list[str], clients: int, seconds: float) -> list[float]:
    timings: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))

    def client() -> None:
        while time.monotonic() < deadline:
            number = next(counter)
            started = time.perf_counter()
            send(questions[number % len(questions)], number)
            with lock:
                timings.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    questions = [item.q for item in read_labelled(ROOT / "tests" / "data" / "dev.jsonl")]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(port, args.workers, str(Path(tmp) / "bench.sqlite"))
        try:
            print(f"gunicorn -w {args.workers}, {args.clients} client threads, {args.seconds:.0f} s per endpoint")
            print("| endpoint | requests | p50 ms | p99 ms | requests/s |")
            print("|---|---|---|---|---|")
            for name, send in (
                ("POST /api/v1/ask", lambda q, n: ask_api(base, q)),
                ("POST /wechat (safe mode)", lambda q, n: ask_wechat(base, q, n)),
            ):
                timings = sorted(load(send, questions, args.clients, args.seconds))
                p99 = timings[int(len(timings) * 0.99) - 1]
                rate = len(timings) / args.seconds
                print(f"| {name} | {len(timings)} | {statistics.median(timings):.1f} | {p99:.1f} | {rate:.0f} |")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
