"""Score a question against every standard and alternate question, then each entry as a whole.

Signals, all in 0..1:
- `overlap`: token overlap weighted by rarity (IDF over entries), as an F-measure of how much of the
  user's question is explained and how much of the stored question is matched; averaged over the entry's
  two best questions, so one lucky alternate does not outweigh an entry several alternates agree on;
- `chars`: rapidfuzz's token_sort_ratio on the space-joined canonical tokens (rapidfuzz splits on
  spaces, Chinese has none), which forgives tokens that differ by a character;
- `coverage`: how much of the user's question the entry's whole vocabulary explains, so a long question
  is not judged by its overlap with one short alternate alone;
- `centroid`: cosine between the question and the entry's centroid (the mean of its questions' weighted
  word vectors), so words most of an entry's questions share count most.
Answers are never scored: an answer mentioning a word does not make the entry about it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz

#: How much each signal counts.
WEIGHTS = {"overlap": 0.45, "chars": 0.2, "coverage": 0.1, "centroid": 0.25}
#: 1 = the user's words and the stored question's count alike (2 favoured recall and ranked worse on dev).
RECALL_BIAS = 1.0
#: Weight of a word no entry uses, relative to the rarest known word.
UNKNOWN_WORD_WEIGHT = 0.5


@dataclass(frozen=True)
class Scored:
    """One entry's best score with the signals that made it."""

    key: str  # FAQ id or out-of-scope topic id
    score: float
    question: str  # the stored question that scored best
    signals: dict[str, float]


@dataclass(frozen=True)
class _Question:
    key: str
    text: str
    tokens: frozenset[str]
    joined: str
    weight: float  # sum of token weights


class Scorer:
    """An index of every stored question, built once per knowledge base."""

    def __init__(self, entries: list[tuple[str, list[tuple[str, list[str]]]]]):
        """`entries`: (key, [(question text, canonical tokens), ...]) for each FAQ and out-of-scope topic."""
        vocabulary: dict[str, set[str]] = defaultdict(set)
        for key, questions in entries:
            for _, tokens in questions:
                for token in tokens:
                    vocabulary[token].add(key)
        count = len(entries)
        self.idf = {token: math.log(1 + count / len(keys)) for token, keys in vocabulary.items()}
        self.unknown_weight = UNKNOWN_WORD_WEIGHT * max(self.idf.values(), default=1.0)
        self.entry_vocabulary: dict[str, frozenset[str]] = {}
        self.questions: list[_Question] = []
        for key, questions in entries:
            words: set[str] = set()
            for text, tokens in questions:
                token_set = frozenset(tokens)
                words |= token_set
                weight = sum(self.weight(t) for t in token_set)
                self.questions.append(_Question(key, text, token_set, " ".join(sorted(token_set)), weight))
            self.entry_vocabulary[key] = frozenset(words)
        self.centroids = {key: self._centroid(key) for key, _ in entries}
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, question in enumerate(self.questions):
            for token in question.tokens:
                self._postings[token].append(index)

    def _centroid(self, key: str) -> dict[str, float]:
        vectors = [_unit({t: self.weight(t) for t in q.tokens}) for q in self.questions if q.key == key]
        total: dict[str, float] = defaultdict(float)
        for vector in vectors:
            for token, value in vector.items():
                total[token] += value / len(vectors)
        return _unit(total)

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.unknown_weight)

    def is_known(self, token: str) -> bool:
        return token in self.idf

    def score(self, tokens: tuple[str, ...]) -> list[Scored]:
        """Every entry that shares a word with the question, best first."""
        query = frozenset(tokens)
        if not query:
            return []
        weights = {t: self.weight(t) for t in query}
        query_weight = sum(weights.values())
        shared: dict[int, float] = defaultdict(float)
        for token in query:
            for index in self._postings.get(token, ()):
                shared[index] += weights[token]
        if not shared:
            return []
        joined_query = " ".join(sorted(query))
        keys = {self.questions[index].key for index in shared}
        coverage = {key: sum(weights[t] for t in query & self.entry_vocabulary[key]) / query_weight for key in keys}
        query_vector = _unit(weights)
        centroid = {
            key: sum(value * self.centroids[key].get(token, 0.0) for token, value in query_vector.items())
            for key in keys
        }
        per_entry: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
        for index, matched in shared.items():
            question = self.questions[index]
            overlap = _f_measure(matched / question.weight, matched / query_weight, RECALL_BIAS)
            chars = fuzz.token_sort_ratio(joined_query, question.joined) / 100.0
            per_entry[question.key].append((overlap, chars, question.text))
        results = []
        for key, matches in per_entry.items():
            matches.sort(reverse=True)
            two_best = [overlap for overlap, _, _ in matches[:2]] + [0.0]
            signals = {
                "overlap": (two_best[0] + two_best[1]) / 2,
                "chars": max(chars for _, chars, _ in matches),
                "coverage": coverage[key],
                "centroid": centroid[key],
            }
            total = sum(WEIGHTS[name] * value for name, value in signals.items())
            results.append(Scored(key, total, matches[0][2], signals))
        return sorted(results, key=lambda s: s.score, reverse=True)


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm else {}


def _f_measure(precision: float, recall: float, beta: float) -> float:
    if precision <= 0 or recall <= 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)
