"""From two signals to one number: the probability that an FAQ is the right answer to the question.

Each candidate FAQ (the lexical scorer's best few and the classifier's best few) is described by scale-free
signals: its own scores, how far it leads the others, whether both signals put it first, how much the
question looks out of scope, how many content words there are. A logistic regression learned on questions
the signals had not seen (held-out folds of the alternates, and the labelled questions) turns them into a
probability, and the answer threshold is the lowest one that keeps wrong answers under the target there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: How many of each signal's best FAQs become candidates.
CANDIDATES_PER_SIGNAL = 4
#: How much a labelled question counts in the calibration against a held-out alternate: alternates of one
#: entry share their writers' wording across folds, so they flatter the signals; labelled questions do not.
LABELLED_WEIGHT = 4.0
#: Content words beyond this say nothing more about how specific a question is.
MAX_WORDS = 6

SIGNAL_NAMES = (
    "lexical",
    "lexical_lead",
    "lexical_first",
    "same_words",
    "learned",
    "learned_lead",
    "learned_first",
    "log_learned",
    "both",
    "at_end",
    "at_end_first",
    "story",
    "story_at_end",
    "story_learned",
    "lexical_at_end",
    "lexical_at_end_lead",
    "story_lexical_at_end",
    "out_of_scope",
    "out_of_scope_lead",
    "other_product",
    "anchored",
    "words",
    "one_word",
)


@dataclass(frozen=True)
class Evidence:
    """What the matcher knows about one question before deciding."""

    lexical: dict[str, float]  # FAQ id → lexical score
    same_words: frozenset[str]  # FAQs with a stored question of exactly the question's content words
    learned: dict[str, float]  # FAQ id → classifier probability
    learned_at_end: dict[str, float]  # the same for a long story's last clauses alone (else = learned)
    lexical_at_end: dict[str, float]  # the lexical score of those last clauses alone (else = lexical)
    story: bool  # the question is long enough to read its end on its own
    out_of_scope_learned: float  # the classifier's probability that it is none of ours
    out_of_scope_lexical: float  # the best lexical score of an out-of-scope topic
    named_products: frozenset[str]  # the products (共济, 亲情账户) the question names
    products: Mapping[str, str]  # each FAQ's product, where it is about one (shared by every question)
    anchored: bool  # a family-account word is in the question
    words: int  # content words

    def about_other_product(self, faq_id: str) -> bool:
        """The FAQ is about 亲情账户 and the question names only 共济, or the reverse."""
        product = self.products.get(faq_id)
        return bool(self.named_products) and product is not None and product not in self.named_products


@dataclass(frozen=True)
class Candidate:
    """One FAQ that might answer the question, with the signals that describe it."""

    faq_id: str
    signals: dict[str, float]


def candidates(evidence: Evidence) -> list[Candidate]:
    """Each signal's best FAQs, described relative to the rest."""
    lexical_order = sorted(evidence.lexical, key=evidence.lexical.__getitem__, reverse=True)
    learned_order = sorted(evidence.learned, key=evidence.learned.__getitem__, reverse=True)
    end_order = sorted(evidence.learned_at_end, key=evidence.learned_at_end.__getitem__, reverse=True)
    lexical_end_order = sorted(evidence.lexical_at_end, key=evidence.lexical_at_end.__getitem__, reverse=True)
    keys = dict.fromkeys(
        lexical_order[:CANDIDATES_PER_SIGNAL]
        + learned_order[:CANDIDATES_PER_SIGNAL]
        + end_order[:2]
        + lexical_end_order[:2]
    )
    story = float(evidence.story)
    result = []
    for key in keys:
        lexical = evidence.lexical.get(key, 0.0)
        learned = evidence.learned.get(key, 0.0)
        lexical_first = bool(lexical_order) and lexical_order[0] == key
        learned_first = bool(learned_order) and learned_order[0] == key
        at_end = evidence.learned_at_end.get(key, 0.0)
        lexical_at_end = evidence.lexical_at_end.get(key, 0.0)
        signals = {
            "lexical": lexical,
            "lexical_lead": lexical - _best_other(evidence.lexical, lexical_order, key),
            "lexical_first": float(lexical_first),
            "same_words": float(key in evidence.same_words),
            "learned": learned,
            "learned_lead": learned - _best_other(evidence.learned, learned_order, key),
            "learned_first": float(learned_first),
            "log_learned": math.log(learned + 1e-4),
            "both": lexical * learned,
            "at_end": at_end,
            "at_end_first": float(bool(end_order) and end_order[0] == key),
            "story": story,
            "story_at_end": story * at_end,
            "story_learned": story * learned,
            "lexical_at_end": lexical_at_end,
            "lexical_at_end_lead": lexical_at_end - _best_other(evidence.lexical_at_end, lexical_end_order, key),
            "story_lexical_at_end": story * lexical_at_end,
            "out_of_scope": evidence.out_of_scope_learned,
            "out_of_scope_lead": evidence.out_of_scope_lexical - lexical,
            "other_product": float(evidence.about_other_product(key)),
            "anchored": float(evidence.anchored),
            "words": min(evidence.words, MAX_WORDS) / MAX_WORDS,
            "one_word": float(evidence.words <= 1),
        }
        result.append(Candidate(key, signals))
    return result


def _best_other(scores: dict[str, float], order: list[str], key: str) -> float:
    for other in order[:2]:
        if other != key:
            return scores[other]
    return 0.0


@dataclass(frozen=True)
class Example:
    """A held-out question's candidates and the FAQs that answer it (empty: out of scope)."""

    candidates: tuple[Candidate, ...]
    expect: frozenset[str]
    labelled: bool  # from the project's labelled questions, not from a fold of the alternates


class Calibrator:
    """Logistic regression over candidate signals → probability that the candidate is right."""

    def __init__(self, examples: Sequence[Example]):
        rows = [(c, e.expect) for e in examples for c in e.candidates]
        weights = [LABELLED_WEIGHT if e.labelled else 1.0 for e in examples for _ in e.candidates]
        matrix = np.array([[c.signals[n] for n in SIGNAL_NAMES] for c, _ in rows]) if rows else np.zeros((0, 0))
        labels = [c.faq_id in expect for c, expect in rows]
        if len(set(labels)) < 2:  # nothing to learn from: trust the signals' own agreement
            self._mean = np.zeros(len(SIGNAL_NAMES))
            self._scale = np.ones(len(SIGNAL_NAMES))
            self._weights = np.array([1.0 if n in ("both", "learned") else 0.0 for n in SIGNAL_NAMES])
            self._intercept = -0.5
            return
        self._mean = matrix.mean(axis=0)
        self._scale = np.where(matrix.std(axis=0) > 0, matrix.std(axis=0), 1.0)
        from sklearn.linear_model import LogisticRegression  # imported for fitting only (see learned.py)

        model = LogisticRegression(C=1.0, max_iter=1000)
        model.fit((matrix - self._mean) / self._scale, labels, sample_weight=weights)
        self._weights = model.coef_[0]
        self._intercept = float(model.intercept_[0])

    def probabilities(self, candidates: Sequence[Candidate]) -> list[float]:
        if not candidates:
            return []
        matrix = np.array([[c.signals[n] for n in SIGNAL_NAMES] for c in candidates])
        logits = ((matrix - self._mean) / self._scale) @ self._weights + self._intercept
        return (1 / (1 + np.exp(-logits))).tolist()

    def weights(self) -> dict[str, float]:
        """Each signal's weight on the standardised scale, for `faq ask --explain`."""
        return dict(zip(SIGNAL_NAMES, self._weights.tolist(), strict=True))
