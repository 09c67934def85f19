"""Unanswered questions grouped by what they say, as the matcher reads them, for the operators' list."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz

from .matching import Matcher

#: Two questions whose content words, joined, are this similar (rapidfuzz ratio, 0-100) ask the same thing:
#: 医保卡丢了怎么补办 and 医保卡掉了咋补 read 医保卡丢补办 / 医保卡掉补, 73.
SAME_QUESTION_SIMILARITY = 60
#: Examples shown per cluster.
EXAMPLES = 5


@dataclass(frozen=True)
class Cluster:
    """Questions asking the same thing: how often, a few examples (most asked first), the FAQ nearest to them."""

    questions: tuple[str, ...]  # every distinct question in it
    count: int
    examples: tuple[str, ...]
    closest_faq: str | None
    closest_probability: float
    last_asked: str
    kinds: tuple[str, ...]  # fallback, rejected ask-back

    @property
    def key(self) -> str:
        """A stable name for the cluster in forms: its most asked question."""
        return self.examples[0]


def cluster(rows: list[dict], matcher: Matcher) -> list[Cluster]:
    """Group rows {question, at, kind} by overlapping content words; the biggest clusters first."""
    counts = Counter(row["question"] for row in rows)
    last = {}
    kinds: dict[str, set[str]] = {}
    for row in rows:
        last[row["question"]] = max(last.get(row["question"], ""), row["at"])
        kinds.setdefault(row["question"], set()).add(row["kind"])
    groups: list[tuple[str, list[str]]] = []
    for question, _ in counts.most_common():
        words = _words(question, matcher)
        for group_words, members in groups:
            if fuzz.ratio(words, group_words) >= SAME_QUESTION_SIMILARITY:
                members.append(question)
                break
        else:
            groups.append((words, [question]))
    clusters = [_summarise(members, counts, last, kinds, matcher) for _, members in groups]
    return sorted(clusters, key=lambda c: (-c.count, c.key))


def _words(question: str, matcher: Matcher) -> str:
    """The canonical content words in order, joined; the text itself when nothing is left (only stop words)."""
    tokens = matcher.analyzer.analyze(question, homophones=False).tokens
    return "".join(tokens) if tokens else question


def _summarise(members, counts, last, kinds, matcher: Matcher) -> Cluster:
    members = sorted(members, key=lambda q: (-counts[q], q))
    ranked = matcher.rank(members[0])
    return Cluster(
        questions=tuple(members),
        count=sum(counts[q] for q in members),
        examples=tuple(members[:EXAMPLES]),
        closest_faq=ranked[0].faq_id if ranked else None,
        closest_probability=ranked[0].score if ranked else 0.0,
        last_asked=max(last[q] for q in members),
        kinds=tuple(sorted({k for q in members for k in kinds[q]})),
    )
