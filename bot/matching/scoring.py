"""Score a question against every standard and alternate question; the best question speaks for its entry.

Signals, all in 0..1:
- `overlap`: token overlap weighted by rarity (IDF over entries), as an F-measure of how much of the
  user's question is explained and how much of the stored question is matched;
- `chars`: rapidfuzz's token_sort_ratio on the space-joined canonical tokens (rapidfuzz splits on
  spaces, Chinese has none), which forgives tokens that differ by a character;
- `coverage`: how much of the user's question the entry's whole vocabulary explains, so a long question
  is not judged by its overlap with one short alternate alone.
Answers are never scored: an answer mentioning a word does not make the entry about it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz

#: How much each signal counts.
WEIGHTS = {"overlap": 0.6, "chars": 0.2, "coverage": 0.2}
#: Recall (of the user's words) counts more than precision: users add context, stored questions are terse.
RECALL_BIAS = 2.0
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
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, question in enumerate(self.questions):
            for token in question.tokens:
                self._postings[token].append(index)

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.unknown_weight)

    def is_known(self, token: str) -> bool:
        return token in self.idf

    def score(self, tokens: tuple[str, ...]) -> list[Scored]:
        """Every entry that shares a word with the question, best first."""
        query = frozenset(tokens)
        if not query:
            return []
        query_weight = sum(self.weight(t) for t in query)
        shared: dict[int, float] = defaultdict(float)
        for token in query:
            for index in self._postings.get(token, ()):
                shared[index] += self.idf[token]
        if not shared:
            return []
        joined_query = " ".join(sorted(query))
        coverage = {
            key: sum(self.weight(t) for t in query & vocabulary) / query_weight
            for key, vocabulary in self.entry_vocabulary.items()
        }
        best: dict[str, Scored] = {}
        for index, matched in shared.items():
            question = self.questions[index]
            recall = matched / query_weight
            precision = matched / question.weight
            overlap = _f_measure(precision, recall, RECALL_BIAS)
            signals = {
                "overlap": overlap,
                "chars": fuzz.token_sort_ratio(joined_query, question.joined) / 100.0,
                "coverage": coverage[question.key],
            }
            total = sum(WEIGHTS[name] * value for name, value in signals.items())
            current = best.get(question.key)
            if current is None or total > current.score:
                best[question.key] = Scored(question.key, total, question.text, signals)
        return sorted(best.values(), key=lambda s: s.score, reverse=True)


def _f_measure(precision: float, recall: float, beta: float) -> float:
    if precision <= 0 or recall <= 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)
