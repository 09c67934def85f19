"""Match latency in process with the project's knowledge base: p50/p99 over every dev-set question.

Run: `make bench` (or `.venv/bin/python bench/match_latency.py [--rounds N]`).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import knowledge  # noqa: E402
from bot.matching import Matcher  # noqa: E402
from bot.matching.baseline import BaselineMatcher  # noqa: E402
from bot.matching.evaluation import read_labelled  # noqa: E402


def measure(match, questions: list[str], rounds: int) -> list[float]:
    for question in questions:  # warm caches (jieba, OpenCC, pypinyin) before timing
        match(question)
    timings = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter_ns()
            match(question)
            timings.append((time.perf_counter_ns() - started) / 1e6)
    return timings


def summary(name: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p50 = statistics.median(ordered)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    per_second = len(ordered) / (sum(ordered) / 1000)
    return f"| {name} | {len(ordered)} | {p50:.3f} | {p99:.3f} | {ordered[-1]:.3f} | {per_second:,.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="passes over the dev-set questions")
    args = parser.parse_args()
    kb = knowledge.load()
    started = time.perf_counter()
    matcher = Matcher(kb)
    build_seconds = time.perf_counter() - started
    questions = [item.q for item in read_labelled(ROOT / "tests" / "data" / "dev.jsonl")]
    print(
        f"python {platform.python_version()} on {platform.machine()}, one thread; "
        f"matcher built in {build_seconds:.2f} s"
    )
    print("| matcher | matches | p50 ms | p99 ms | max ms | matches/s (one core) |")
    print("|---|---|---|---|---|---|")
    print(summary("ours", measure(matcher.match, questions, args.rounds)))
    print(summary("baseline WRatio", measure(BaselineMatcher(kb).match, questions, args.rounds)))


if __name__ == "__main__":
    main()
