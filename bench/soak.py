"""Soak: thousands of WeChat messages from many users on two hosts sharing Redis + PostgreSQL, retries mixed in.

Run: `.venv/bin/python bench/soak.py [--messages 4000] [--users 400] [--clients 16] [--retries 0.1]`.
It starts a throw-away Redis and PostgreSQL (`.ci/engines`, Debian's redis-server and postgresql) and two
gunicorn hosts (gunicorn.conf.py, one worker each) on them. Each message goes to either host; a share of them
is delivered again with the same MsgId, at once and in parallel, as WeChat does when the first try is slow.
It checks that every message was answered, that all deliveries of one message got the same reply, and that
each is recorded exactly once; then prints the counts, p50/p99 latency and messages per second.
`--sqlite` runs the same against one host on SQLite instead.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import sqlite3  # noqa: E402

from engines import Servers  # noqa: E402
from served import Gunicorn, Message, wechat_sends  # noqa: E402

from bot.matching.evaluation import read_labelled  # noqa: E402


def send_with_retries(host: Gunicorn, message: Message, retry: bool) -> tuple[list[Message], float]:
    """One message, and when `retry`, a second delivery of the same MsgId in parallel; the first try's latency."""
    started = time.perf_counter()
    if not retry:
        return [wechat_sends(host, message)], (time.perf_counter() - started) * 1000
    twin = Message(message.msg_id, message.text, message.user)
    with ThreadPoolExecutor(2) as pair:
        done = list(pair.map(lambda m: wechat_sends(host, m), (message, twin)))
    return done, (time.perf_counter() - started) * 1000


def recorded(hosts: list[Gunicorn]) -> int:
    url = hosts[0].env.get("DATABASE_URL")
    if url:
        with psycopg.connect(url, autocommit=True) as db:
            return db.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
    with sqlite3.connect(hosts[0].database) as db:
        return db.execute("SELECT COUNT(*) FROM turns").fetchone()[0]


def soak(hosts: list[Gunicorn], args) -> None:
    questions = [item.text for item in read_labelled(ROOT / "knowledge" / "labelled" / "dev.jsonl")]
    chance = random.Random(7)
    plan = [
        (Message(9_000_000 + n, chance.choice(questions), f"o_soak_{chance.randrange(args.users)}"), chance.random())
        for n in range(args.messages)
    ]
    results: list[tuple[list[Message], float]] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        message, draw = plan[n]
        outcome = send_with_retries(hosts[n % len(hosts)], message, draw < args.retries)
        with lock:
            results.append(outcome)

    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(one, range(len(plan))))
    elapsed = time.perf_counter() - started

    deliveries = [m for done, _ in results for m in done]
    unanswered = [m.msg_id for m in deliveries if m.reply is None]
    differing = [done[0].msg_id for done, _ in results if len({m.reply for m in done}) > 1]
    # A turn that ends in `none` (an empty message) has no row; every question here has text, so one each.
    deadline = time.monotonic() + 30
    while recorded(hosts) < len(plan) and time.monotonic() < deadline:
        for host in hosts:
            host.health()  # /healthz moves records that waited in Redis
        time.sleep(0.5)
    rows = recorded(hosts)
    timings = sorted(latency for _, latency in results)
    print(f"hosts: {len(hosts)}, messages: {len(plan)}, users: {args.users}, clients: {args.clients}")
    print(f"delivered twice (WeChat retry): {sum(len(done) > 1 for done, _ in results)}")
    print(f"unanswered deliveries: {len(unanswered)}; retries with another reply: {len(differing)}")
    print(f"turns recorded: {rows} for {len(plan)} messages ({'exactly once' if rows == len(plan) else 'MISMATCH'})")
    print(
        f"latency p50 {statistics.median(timings):.1f} ms, p99 {timings[int(len(timings) * 0.99) - 1]:.1f} ms, "
        f"max {timings[-1]:.1f} ms; {len(plan) / elapsed:.0f} messages/s"
    )
    if unanswered or differing or rows != len(plan):
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--retries", type=float, default=0.1, help="share of messages delivered twice at once")
    parser.add_argument("--sqlite", action="store_true", help="one host on SQLite instead of two on Redis + PG")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.sqlite:
            with Gunicorn(Path(tmp) / "a", workers=2, LOG_LEVEL="WARNING") as host:
                soak([host], args)
            return
        servers = Servers()
        try:
            settings = {**servers.settings(), "LOG_LEVEL": "WARNING"}
            with (
                Gunicorn(Path(tmp) / "a", workers=1, **settings) as a,
                Gunicorn(Path(tmp) / "b", workers=1, **settings) as b,
            ):
                soak([a, b], args)
        finally:
            servers.close()


if __name__ == "__main__":
    main()
