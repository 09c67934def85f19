"""The learned signal for a large base: nearest centroids over the classifier's TF-IDF features.

Logistic regression over every class costs minutes and gigabytes at a thousand entries, and its query cost
grows with the classes. Here each class is its questions' normalised mean vector; training is one pass over
the stored questions, and a question touches only the classes that share a feature with it (a feature →
classes index). A softmax over the cosines, untouched classes counted at cosine 0, gives a distribution over
every class; only the best few and every out-of-scope class are reported, which is all the matcher reads.
Less accurate than the regression on a small base (raw top-1 92–94% against 95–97% at 32 entries), so it is
used only above `training.CENTROIDS_ABOVE` classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .analysis import Analysis
from .learned import Example, vectorize

if TYPE_CHECKING:
    from scipy import sparse

#: Cosines are in 0..1; this sharpens them into probabilities. At 1,000 entries the labelled questions'
#: in-sample top-1 was 87.1 / 88.1 / 88.8 / 87.5 / 87.3% with 6 / 9 / 12 / 25 / 50.
TEMPERATURE = 12.0
#: Classes reported per question, best first (out-of-scope classes come on top of these).
REPORTED = 32
#: A feature (a common character, 怎么) shared by more classes than this counts only for the classes whose
#: centroids weigh it most: a question then touches a few thousand weights, not every class per feature.
POSTINGS_CAP = 256


class NearestCentroids:
    """Cosine between a question and each class's centroid, as a softmax over the classes."""

    def __init__(self, examples: Sequence[Example], out_of_scope: frozenset[str]):
        from scipy import sparse  # imported for fitting only, as scikit-learn (learned.py)

        self._weighting, matrix = vectorize(examples)  # rows are unit vectors
        self.classes: tuple[str, ...] = tuple(sorted({e.label for e in examples}))
        number = {label: i for i, label in enumerate(self.classes)}
        rows = np.array([number[e.label] for e in examples], dtype=np.int64)
        membership = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(self.classes), len(rows))
        )
        centroids = sparse.csr_matrix(membership @ matrix)
        norms = np.sqrt(np.asarray(centroids.multiply(centroids).sum(axis=1)).ravel())
        centroids = sparse.csr_matrix(sparse.diags(1 / np.where(norms > 0, norms, 1.0)) @ centroids)
        self._pointers, self._classes_of, self._weights = _capped(centroids.T.tocsr())  # feature → classes
        self._out_of_scope = np.array([number[k] for k in sorted(out_of_scope) if k in number], dtype=np.int64)

    def probabilities(self, analysis: Analysis) -> dict[str, float]:
        """Probability of the best `REPORTED` classes and of every out-of-scope class, of a softmax over all."""
        columns, values = self._weighting.of(analysis)
        cosines = np.zeros(len(self.classes))
        if len(columns):
            starts, ends = self._pointers[columns], self._pointers[columns + 1]
            lengths = ends - starts
            positions = np.repeat(ends - lengths.cumsum(), lengths) + np.arange(lengths.sum())
            contributions = np.repeat(values, lengths) * self._weights[positions]
            cosines = np.bincount(self._classes_of[positions], contributions, minlength=len(self.classes))
        exp = np.exp(TEMPERATURE * (cosines - cosines.max()))
        probability = exp / exp.sum()
        best = np.argpartition(-probability, min(REPORTED, len(probability) - 1))[:REPORTED]
        chosen = np.union1d(best, self._out_of_scope)
        return {self.classes[i]: p for i, p in zip(chosen.tolist(), probability[chosen].tolist(), strict=True)}


def _capped(index: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's `POSTINGS_CAP` largest weights: (row pointers, columns, weights)."""
    pointers, columns, weights = index.indptr, index.indices, index.data
    keep = np.ones(len(weights), dtype=bool)
    for row in np.flatnonzero(np.diff(pointers) > POSTINGS_CAP).tolist():
        start, end = pointers[row], pointers[row + 1]
        keep[start + np.argpartition(-weights[start:end], POSTINGS_CAP)[POSTINGS_CAP:]] = False
    kept = np.concatenate([[0], np.cumsum(keep)])[pointers]
    return kept, columns[keep], weights[keep]
