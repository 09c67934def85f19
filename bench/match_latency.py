"""Match latency and training cost in process: p50/p99 over the labelled questions, at the project's size
or grown to N entries with synthetic ones (bench/synthetic.py).

Run: `make bench` (or `.venv/bin/python bench/match_latency.py [--entries N] [--rounds R] [--rebuild]`).
"""

from __future__ import annotations

import argparse
import gc
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synthetic import grow  # noqa: E402

import bot.knowledge as knowledge  # noqa: E402
from bot.matching import Matcher  # noqa: E402
from bot.matching.baseline import BaselineMatcher  # noqa: E402
from bot.matching.evaluation import evaluate  # noqa: E402


def measure(match, questions: list[str], rounds: int, forget=lambda: None) -> list[float]:
    """Timings of every question, `rounds` times; `forget` runs before each, untimed, so a question repeated in
    the next round is not answered from the clauses remembered the first time."""
    for question in questions:  # warm caches (jieba, OpenCC, pypinyin) before timing
        match(question)
    timings = []
    for _ in range(rounds):
        for question in questions:
            forget()
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
    parser.add_argument("--rounds", type=int, default=10, help="passes over the labelled questions")
    parser.add_argument("--entries", type=int, default=0, help="grow the base to this many entries first")
    parser.add_argument("--rebuild", action="store_true", help="time a second build, as a reload of unchanged files")
    parser.add_argument("--no-baseline", action="store_true", help="skip the WRatio baseline (slow at 10,000)")
    args = parser.parse_args()
    directory = knowledge.DEFAULT_DIR
    if args.entries:
        directory = grow(args.entries, Path(tempfile.mkdtemp()) / "knowledge")
    kb, problems = knowledge.check(directory)  # synthetic entries may trip a style rule; they still load
    if kb is None or any(p.unreadable for p in problems):
        raise SystemExit("\n".join(map(str, problems)))
    memory_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    matcher = Matcher(kb)
    build_seconds = time.perf_counter() - started
    memory_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - memory_before) / 1024
    if args.rebuild:
        started = time.perf_counter()
        Matcher(kb)  # the questions' analyses are reused from the first build
        print(f"rebuilt in {time.perf_counter() - started:.1f} s (a reload: analyses of unchanged questions reused)")
    gc.freeze()  # as the gunicorn workers do once their matcher is built (gunicorn.conf.py)
    labelled = list(kb.labelled)
    report = evaluate(matcher.match, labelled)
    stored = sum(len(f.questions) for f in kb.faqs)
    print(
        f"python {platform.python_version()} on {platform.machine()}, one thread; {len(kb.faqs)} entries, "
        f"{stored} stored questions; matcher trained in {build_seconds:.1f} s (peak memory +{memory_mb:.0f} MB); "
        f"answer threshold {matcher.thresholds.answer:.2f}; labelled set in-sample: top-1 {report.top1:.1%}, "
        f"confident-wrong {report.confident_wrong:.1%}, false-accept {report.false_accept:.1%}"
    )
    questions = [item.text for item in labelled]
    print("| matcher | matches | p50 ms | p99 ms | max ms | matches/s (one core) |")
    print("|---|---|---|---|---|---|")
    print(summary("ours", measure(matcher.match, questions, args.rounds, matcher.analyzer.forget)))
    if not args.no_baseline:
        print(summary("baseline WRatio", measure(BaselineMatcher(kb).match, questions, args.rounds)))


if __name__ == "__main__":
    main()
