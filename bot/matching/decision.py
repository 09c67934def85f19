"""Calibrated probabilities → answer / clarify / fallback, with the answer threshold learned per knowledge base."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .calibration import Calibrator, Example

#: Fewer held-out in-scope questions than this in a pool say too little to set a threshold on: at the stories'
#: 3% target, the 55 labelled stories allowed one wrong answer, so the threshold sat on whichever story came
#: second-most-confident and wrong, and moved 0.70 → 0.83 with a few edited alternates.
MIN_POOL = 100
#: How many more wrong answers the held-out alternates' pool may have than the target (2% where the policy says
#: 1.5%): alternates are written entry by entry, with near-copies in neighbouring entries, and at the threshold
#: they set they were answered wrong 1.5% of the time against 0-1% for real users' questions (cross-validated
#: labelled questions, four outside sets, 2026-12-02). At 4/3 top-1 rose 0-3.5 points on each, confident-wrong
#: at most 0.5; at 5/3 a hard set's confident-wrong reached 1.5%, at 2 an outside set's false-accept 2%.
ALTERNATES_LENIENCY = 4 / 3
#: The targets a threshold is averaged over, as multiples of the policy's target (see _safe_on_every_pool).
TARGET_BAND = (0.6, 0.8, 1.0, 1.2, 1.4)


@dataclass(frozen=True)
class Policy:
    """What the operators ask of the matcher; the thresholds that meet it are learned (see README)."""

    wrong_answer_target: float = 0.015  # share of held-out questions answered with the wrong FAQ, at most
    #: The same for long stories: they often ask two things, and an answered story offers its runner-up as
    #: "您是不是还想问" option 1, so a wrong first pick costs the user one tap, as asking back would.
    story_wrong_answer_target: float = 0.03
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
    story_answer: float | None = None  # for long stories (see Policy); None: the same as `answer`

    def answer_for(self, story: bool) -> float:
        return self.story_answer if story and self.story_answer is not None else self.answer


@dataclass(frozen=True)
class Ranked:
    faq_id: str
    probability: float


@dataclass(frozen=True)
class Decision:
    action: str  # answer | clarify | fallback
    band: str  # why, in words, for `faq ask --explain`
    options: tuple[Ranked, ...] = ()


def decide(ranked: Sequence[Ranked], t: Thresholds, same_words: str | None = None, story: bool = False) -> Decision:
    """Pick the outcome; a wrong answer is worse than a question back, so doubt clarifies.

    `same_words`: the one FAQ (if any) with a stored question of exactly the user's content words, and no
    out-of-scope example has them: an operator wrote that question down for that entry, so it is answered.
    `story`: the question is a long story, answered from its own threshold."""
    if same_words is not None:
        return Decision("answer", f"the same words as a stored question of {same_words}, and of no other entry")
    if not ranked:
        return Decision("fallback", "no FAQ shares anything with the question")
    best = ranked[0]
    answer = t.answer_for(story)
    if best.probability >= answer:
        kind = "story answer" if story and answer != t.answer else "answer"
        return Decision("answer", f"probability {best.probability:.2f} >= {kind} threshold {answer:.2f}")
    if best.probability < t.clarify:
        return Decision("fallback", f"probability {best.probability:.2f} < clarify threshold {t.clarify:.2f}")
    options = [r for r in ranked[: t.max_options] if r.probability >= t.option]
    if len(options) < 2 and len(ranked) > 1:  # a choice of one is no choice: offer the runner-up too
        options = list(ranked[:2])
    reason = f"probability {best.probability:.2f} between clarify {t.clarify:.2f} and answer {answer:.2f}"
    return Decision("clarify", reason, tuple(options))


def choose_thresholds(calibrator: Calibrator, examples: Sequence[Example], policy: Policy) -> Thresholds:
    """The lowest answer threshold that keeps wrong answers and false accepts within the target on every pool
    of held-out questions (the labelled questions; the alternates' folds, within ALTERNATES_LENIENCY times the
    target) large enough to judge; and the same for long stories alone, on their own target."""
    answer = _safe_on_every_pool(calibrator, examples, policy.wrong_answer_target, policy.min_answer, smooth=False)
    stories = [e for e in examples if is_story(e)]
    # Stories are a sparse pool (a few dozen wrong answers and false accepts in about a thousand): their
    # outcomes are smoothed along the probabilities before counting.
    target = policy.story_wrong_answer_target
    story_answer = _safe_on_every_pool(calibrator, stories, target, policy.min_answer, smooth=True)
    return Thresholds(answer, min(policy.clarify, answer), policy.option, policy.max_options, story_answer)


def is_story(example: Example) -> bool:
    return any(c.signals["story"] for c in example.candidates)


def _safe_on_every_pool(
    calibrator: Calibrator, examples: Sequence[Example], target: float, floor: float, smooth: bool
) -> float:
    """The mean over a band of targets around `target` of the lowest threshold safe on every pool.

    One target alone puts the threshold on whichever question happens to be its n-th wrong answer; where wrong
    answers are spread thin, one added alternate moved the story threshold by 0.05 (0.67-0.75 over six small
    edits). The mean over the band, whose middle is the target, moved 0.66-0.68 over the same edits; `smooth`
    (the stories) also reads each outcome off a curve fitted over the whole pool (see _smoothed).
    """
    pools = []
    for labelled in (False, True):
        pool = [e for e in examples if e.labelled == labelled]
        if sum(bool(e.expect) for e in pool) >= MIN_POOL:
            pools.append((_Tops.of(calibrator, pool, smooth), 1.0 if labelled else ALTERNATES_LENIENCY))
    band = [
        max([floor] + [tops.lowest_safe_threshold(target * f * leniency) for tops, leniency in pools])
        for f in TARGET_BAND
    ]
    return sum(band) / len(band)


@dataclass(frozen=True)
class _Tops:
    """A pool's top candidates, most probable first: (probability, how likely answering there is a wrong answer,
    how likely a false accept); how many questions are in scope and out of scope."""

    ranked: list[tuple[float, float, float]]
    in_scope: int
    out_of_scope: int

    @classmethod
    def of(cls, calibrator: Calibrator, pool: Sequence[Example], smooth: bool) -> _Tops:
        tops = []
        for example in pool:
            probabilities = calibrator.probabilities(example.candidates)
            if probabilities:
                p, faq_id = max(zip(probabilities, (c.faq_id for c in example.candidates), strict=True))
                tops.append((p, bool(example.expect) and faq_id not in example.expect, not example.expect))
        tops.sort(reverse=True)
        probabilities = [p for p, _, _ in tops]
        wrong: list[float] = [w for _, w, _ in tops]
        false_accept: list[float] = [f for _, _, f in tops]
        if smooth:
            wrong, false_accept = _smoothed(probabilities, wrong), _smoothed(probabilities, false_accept)
        ranked = list(zip(probabilities, wrong, false_accept, strict=True))
        return cls(ranked, sum(bool(e.expect) for e in pool) or 1, sum(not e.expect for e in pool) or 1)

    def lowest_safe_threshold(self, target: float) -> float:
        wrong = false_accepts = 0.0
        threshold = 1.0
        # Lower the threshold one question at a time, from the most confident, while the target still holds.
        for p, expected_wrong, expected_false_accept in self.ranked:
            wrong += expected_wrong
            false_accepts += expected_false_accept
            if wrong / self.in_scope > target or false_accepts / self.out_of_scope > target:
                break
            threshold = p
        return threshold


def _smoothed(probabilities: list[float], outcome: list[float]) -> list[float]:
    """How likely each question's outcome is, read off a logistic curve in its top probability fitted over the
    whole pool, instead of 1 or 0: a sparse pool's few wrong answers and false accepts sit at scattered
    probabilities, and counting them put the story threshold on whichever came n-th (five harmless alternates
    moved it by 0.03)."""
    if len(set(outcome)) < 2:
        return [float(o) for o in outcome]
    from sklearn.linear_model import LogisticRegression  # imported for fitting only (see learned.py)

    clipped = np.clip(probabilities, 1e-6, 1 - 1e-6)
    logits = np.log(clipped / (1 - clipped)).reshape(-1, 1)
    return LogisticRegression(C=1e4).fit(logits, outcome).predict_proba(logits)[:, 1].tolist()
