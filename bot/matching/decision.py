"""Calibrated probabilities → answer / clarify / fallback, with the answer threshold learned per knowledge base."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .calibration import Calibrator, Example

#: Fewer held-out in-scope questions than this in a pool say too little to set a threshold on.
MIN_POOL = 30


@dataclass(frozen=True)
class Policy:
    """What the operators ask of the matcher; the thresholds that meet it are learned (see README)."""

    wrong_answer_target: float = 0.015  # share of held-out questions answered with the wrong FAQ, at most
    clarify: float = 0.2  # below this probability nothing is offered: fallback
    option: float = 0.08  # a clarify option needs at least this probability
    max_options: int = 3
    min_answer: float = 0.5  # never answer on a probability below this, whatever the held-out data allow


@dataclass(frozen=True)
class Thresholds:
    """The probabilities the decision compares with, chosen when the matcher is trained."""

    answer: float
    clarify: float
    option: float
    max_options: int


@dataclass(frozen=True)
class Ranked:
    faq_id: str
    probability: float


@dataclass(frozen=True)
class Decision:
    action: str  # answer | clarify | fallback
    band: str  # why, in words, for `faq ask --explain`
    options: tuple[Ranked, ...] = ()


def decide(ranked: Sequence[Ranked], t: Thresholds, same_words: str | None = None) -> Decision:
    """Pick the outcome; a wrong answer is worse than a question back, so doubt clarifies.

    `same_words`: the one FAQ (if any) with a stored question of exactly the user's content words, and no
    out-of-scope example has them: an operator wrote that question down for that entry, so it is answered."""
    if same_words is not None:
        return Decision("answer", f"the same words as a stored question of {same_words}, and of no other entry")
    if not ranked:
        return Decision("fallback", "no FAQ shares anything with the question")
    best = ranked[0]
    if best.probability >= t.answer:
        return Decision("answer", f"probability {best.probability:.2f} >= answer threshold {t.answer:.2f}")
    if best.probability < t.clarify:
        return Decision("fallback", f"probability {best.probability:.2f} < clarify threshold {t.clarify:.2f}")
    options = [r for r in ranked[: t.max_options] if r.probability >= t.option]
    if len(options) < 2 and len(ranked) > 1:  # a choice of one is no choice: offer the runner-up too
        options = list(ranked[:2])
    reason = f"probability {best.probability:.2f} between clarify {t.clarify:.2f} and answer {t.answer:.2f}"
    return Decision("clarify", reason, tuple(options))


def choose_thresholds(calibrator: Calibrator, examples: Sequence[Example], policy: Policy) -> Thresholds:
    """The lowest answer threshold that keeps wrong answers and false accepts within the target on every pool
    of held-out questions (the alternates' folds, the labelled questions) large enough to judge."""
    answer = policy.min_answer
    for labelled in (False, True):
        pool = [e for e in examples if e.labelled == labelled]
        if sum(bool(e.expect) for e in pool) >= MIN_POOL:
            answer = max(answer, _lowest_safe_threshold(calibrator, pool, policy.wrong_answer_target))
    return Thresholds(answer, min(policy.clarify, answer), policy.option, policy.max_options)


def _lowest_safe_threshold(calibrator: Calibrator, pool: Sequence[Example], target: float) -> float:
    tops = []  # (probability of the top candidate, in scope, right)
    for example in pool:
        probabilities = calibrator.probabilities(example.candidates)
        if probabilities:
            p, faq_id = max(zip(probabilities, (c.faq_id for c in example.candidates), strict=True))
            tops.append((p, bool(example.expect), faq_id in example.expect))
    in_scope = sum(bool(e.expect) for e in pool) or 1
    out_of_scope = sum(not e.expect for e in pool) or 1
    wrong = false_accepts = 0
    threshold = 1.0
    # Lower the threshold one question at a time, from the most confident, while the target still holds.
    for p, scoped, right in sorted(tops, reverse=True):
        wrong += scoped and not right
        false_accepts += not scoped
        if wrong / in_scope > target or false_accepts / out_of_scope > target:
            break
        threshold = p
    return threshold
