"""Score a matcher on a labelled set the way the held-out evaluation does (shared/eval/README.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.knowledge import KnowledgeBase, KnowledgeError, labelled
from bot.knowledge.model import LabelledQuestion

from . import Match, Matcher, Policy, Trainer


@dataclass(frozen=True)
class Outcome:
    item: LabelledQuestion
    match: Match

    @property
    def in_scope(self) -> bool:
        return bool(self.item.expect)

    @property
    def correct(self) -> bool:
        return self.match.action == "answer" and self.match.faq_id in self.item.expect

    @property
    def clarify_hit(self) -> bool:
        offered = [c.faq_id for c in self.match.candidates[:3]]
        return self.match.action == "clarify" and any(f in self.item.expect for f in offered)

    @property
    def confident_wrong(self) -> bool:
        return self.in_scope and self.match.action == "answer" and self.match.faq_id not in self.item.expect

    @property
    def false_accept(self) -> bool:
        return not self.in_scope and self.match.action == "answer"

    @property
    def region_right(self) -> bool:
        return self.match.region == self.item.region


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def _rate(self, pool: list[Outcome], test: Callable[[Outcome], bool]) -> float:
        return sum(map(test, pool)) / len(pool) if pool else 0.0

    @property
    def in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.in_scope]

    @property
    def out_of_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.in_scope]

    @property
    def top1(self) -> float:
        return self._rate(self.in_scope, lambda o: o.correct)

    @property
    def clarify_hit(self) -> float:
        return self._rate(self.in_scope, lambda o: o.clarify_hit)

    @property
    def confident_wrong(self) -> float:
        return self._rate(self.in_scope, lambda o: o.confident_wrong)

    @property
    def false_accept(self) -> float:
        return self._rate(self.out_of_scope, lambda o: o.false_accept)

    @property
    def region_accuracy(self) -> float:
        pool = [o for o in self.in_scope if o.item.region and o.correct]
        return self._rate(pool, lambda o: o.region_right)

    def misses(self) -> list[Outcome]:
        """Everything that was not the best outcome: wrong, clarified or refused in scope; accepted out of scope."""
        return [o for o in self.outcomes if (o.in_scope and not o.correct) or o.false_accept]

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """Per kind of question: (how many got the best outcome, how many there are)."""
        counts: dict[str, list[int]] = {}
        for outcome in self.outcomes:
            good = outcome.correct if outcome.in_scope else not outcome.false_accept
            tally = counts.setdefault(outcome.item.kind, [0, 0])
            tally[0] += good
            tally[1] += 1
        return {kind: (good, total) for kind, (good, total) in sorted(counts.items())}

    def figures(self) -> dict[str, float]:
        return {
            "top1": self.top1,
            "clarify_hit": self.clarify_hit,
            "confident_wrong": self.confident_wrong,
            "false_accept": self.false_accept,
            "region_accuracy": self.region_accuracy,
        }


def read_labelled(path: str | Path) -> list[LabelledQuestion]:
    """A labelled JSONL file (the format of knowledge/labelled/); raises KnowledgeError naming bad lines."""
    questions, problems = labelled.read_labelled(Path(path), str(path))
    if problems:
        raise KnowledgeError(problems)
    return questions


def evaluate(match: Callable[[str], Match], items: Iterable[LabelledQuestion]) -> Report:
    return Report([Outcome(item, match(item.text)) for item in items])


def cross_validate(
    kb: KnowledgeBase, items: Sequence[LabelledQuestion], folds: int, policy: Policy, trainer: Trainer
) -> Report:
    """Each fold of `items` matched by a matcher calibrated without it (on the rest and kb.labelled)."""
    order = sorted(items, key=lambda item: _fold_key(item.id))
    pool = {q.id: q for q in (*kb.labelled, *items)}
    outcomes = []
    for fold in range(folds):
        held = order[fold::folds]
        held_ids = {q.id for q in held}
        matcher = Matcher(kb, policy, [q for q in pool.values() if q.id not in held_ids], trainer)
        outcomes += evaluate(matcher.match, held).outcomes
    return Report(outcomes)


def _fold_key(item_id: str) -> str:
    """A fixed shuffle: folds mix the sets and kinds, and stay the same from run to run."""
    return hashlib.sha256(item_id.encode()).hexdigest()
