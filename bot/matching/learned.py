"""The learned signal: a classifier trained from the knowledge files at load time, never a stored binary.

Features are the question's characters (1–3-grams), its canonical words, the pinyin channel's reading and
toneless pinyin syllable pairs, so a voice-input homophone (张虎 for 账户) shares features with the word it
stands for even when no table lists it. Logistic regression over these gives a probability per class: each
FAQ and each out-of-scope topic. For a large base, where the regression costs minutes and gigabytes, nearest
centroids over the same features stand in (centroids.py, chosen in training.py). Training is deterministic
(fixed solver seed), so two workers that load the same files answer alike.

scikit-learn is imported where a model is fitted, never at the top of a module: importing it takes about a
second (scipy.stats parses its docstrings), which every `flask` command would pay, `faq lint` included.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .analysis import Analysis
from .pinyin import syllables

if TYPE_CHECKING:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

#: Inverse regularisation strength; the stored questions are few per class, so fit them closely.
REGULARISATION_C = 10.0
#: saga reaches this tolerance in about half a second at 40 entries; tighter cost 4x and bought nothing
#: measurable on the held-out questions.
TOLERANCE = 1e-2
#: A feature seen in only one stored question (one typo, one rare word) is noise to the classifier.
MIN_QUESTIONS_PER_FEATURE = 2
MAX_ITERATIONS = 300


@dataclass(frozen=True)
class Example:
    """One stored question as training text: its features and the class it belongs to."""

    label: str
    features: tuple[str, ...]


def features(analysis: Analysis) -> tuple[str, ...]:
    """The question as a bag of prefixed features: characters, words, the homophone reading, syllables."""
    text = "".join(analysis.words)
    grams = [f"c:{text[i : i + n]}" for n in (1, 2, 3) for i in range(len(text) - n + 1)]
    words = [f"w:{token}" for token in analysis.typed.tokens]
    if analysis.heard is not None:
        words += [f"w:{token}" for token in analysis.heard.tokens if token not in analysis.typed.tokens]
    sounds = [s for word in analysis.words for s in syllables(word) if s.isalpha()]
    pairs = [f"p:{a}_{b}" for a, b in zip(sounds, sounds[1:], strict=False)]
    return (*grams, *words, *pairs)


def _given(features: tuple[str, ...]) -> tuple[str, ...]:
    """The vectorizer's analyzer: examples arrive as features already, computed once per stored question."""
    return features


class Weighting:
    """The TF-IDF weighting learned from the stored questions, applied to one question by hand: the columns of
    its known features and their unit-length weights cost a few microseconds, where the vectorizer's transform
    spends milliseconds on input checks."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self._columns: dict[str, int] = {f: int(i) for f, i in vectorizer.vocabulary_.items()}
        self._idf = vectorizer.idf_

    def of(self, analysis: Analysis) -> tuple[np.ndarray, np.ndarray]:
        """(columns, weights) of the question's known features; both empty when it has none."""
        present = [column for column in map(self._columns.get, features(analysis)) if column is not None]
        if not present:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        columns, counts = np.unique(np.array(present, dtype=np.int64), return_counts=True)
        values = (1 + np.log(counts)) * self._idf[columns]
        return columns, values / np.linalg.norm(values)


def vectorize(examples: Sequence[Example]) -> tuple[Weighting, sparse.csr_matrix]:
    """The stored questions as unit TF-IDF rows, and the weighting that puts a new question in the same space."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # imported for fitting only (module docstring)

    vectorizer = TfidfVectorizer(analyzer=_given, sublinear_tf=True, min_df=MIN_QUESTIONS_PER_FEATURE)
    matrix = vectorizer.fit_transform([e.features for e in examples])
    return Weighting(vectorizer), matrix


class Classifier:
    """TF-IDF features and logistic regression over every FAQ and out-of-scope class."""

    def __init__(self, examples: Sequence[Example]):
        from sklearn.exceptions import ConvergenceWarning  # imported for fitting only (module docstring)
        from sklearn.linear_model import LogisticRegression

        self._weighting, matrix = vectorize(examples)
        model = LogisticRegression(
            C=REGULARISATION_C, solver="saga", tol=TOLERANCE, max_iter=MAX_ITERATIONS, random_state=0
        )
        with warnings.catch_warnings():
            # A tiny base (a test's, an operator's first draft) may stop short of the tolerance; the
            # probabilities are still usable, and the calibration learns how far to trust them.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(matrix, [e.label for e in examples])
        self.classes: tuple[str, ...] = tuple(str(c) for c in model.classes_)
        # Inference by hand: the rows of the features present, a weighted sum and a softmax cost a few
        # microseconds, where predict_proba spends milliseconds on input checks.
        self._weights = np.ascontiguousarray(model.coef_.T)
        self._intercept = model.intercept_
        if len(self.classes) == 2:  # binary models keep one row of weights: the second class against the first
            self._weights = np.hstack([-self._weights / 2, self._weights / 2])
            self._intercept = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])

    def probabilities(self, analysis: Analysis) -> dict[str, float]:
        """Probability of each class for one question; they sum to 1."""
        columns, values = self._weighting.of(analysis)
        logits = self._intercept.copy()
        if len(columns):
            logits += values @ self._weights[columns]
        exp = np.exp(logits - logits.max())
        return dict(zip(self.classes, (exp / exp.sum()).tolist(), strict=True))
