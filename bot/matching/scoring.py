"""Score a question against every standard and alternate question, then each entry as a whole.

Signals, all in 0..1:
- `overlap`: token overlap weighted by rarity (IDF over entries), as the F1 of how much of the user's
  question is explained and how much of the stored question is matched; averaged over the entry's two
  best questions, so one lucky alternate does not outweigh an entry several alternates agree on;
- `chars`: rapidfuzz's token_sort_ratio on the space-joined canonical tokens (rapidfuzz splits on
  spaces, Chinese has none) of those two questions, which forgives tokens that differ by a character;
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
WEIGHTS = {"overlap": 9 / 24, "chars": 4 / 24, "coverage": 4 / 24, "centroid": 7 / 24}
#: Score factor for an entry about one product (亲情账户) when the question names only the other (共济).
SUBJECT_MISMATCH = 0.85
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

    def __init__(self, entries: list[tuple[str, list[tuple[str, list[str]]]]], subjects: dict[str, str] | None = None):
        """`entries`: (key, [(question text, canonical tokens), ...]) for each FAQ and out-of-scope topic;
        `subjects`: the product word (共济, 亲情账户) each entry is about, if its category names one."""
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
        # Per word: the entries using it and the word's weight in each entry's centroid, so a question
        # touches only the entries that share its words.
        self._entries_with: dict[str, list[str]] = defaultdict(list)
        self._centroid_postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for key, _ in entries:
            for token in self.entry_vocabulary[key]:
                self._entries_with[token].append(key)
            for token, value in self._centroid(key).items():
                self._centroid_postings[token].append((key, value))
        self.subjects = subjects or {}
        self.subject_words = frozenset(self.subjects.values())
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
        coverage: dict[str, float] = defaultdict(float)
        centroid: dict[str, float] = defaultdict(float)
        query_vector = _unit(weights)
        for token in query:
            for key in self._entries_with.get(token, ()):
                coverage[key] += weights[token] / query_weight
            for key, value in self._centroid_postings.get(token, ()):
                centroid[key] += query_vector[token] * value
        # Weighted Dice: the F1 of weighted precision (of the stored question) and recall (of the user's).
        two_best: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for index, matched in shared.items():
            question = self.questions[index]
            overlap = 2 * matched / (query_weight + question.weight)
            best = two_best[question.key]
            if len(best) < 2:
                best.append((overlap, index))
                best.sort(reverse=True)
            elif overlap > best[1][0]:
                best[1] = (overlap, index)
                best.sort(reverse=True)
        named_subjects = query & self.subject_words
        results = []
        for key, best in two_best.items():
            signals = {
                "overlap": (best[0][0] + (best[1][0] if len(best) > 1 else 0.0)) / 2,
                "chars": max(fuzz.token_sort_ratio(joined_query, self.questions[i].joined) for _, i in best) / 100,
                "coverage": coverage[key],
                "centroid": centroid[key],
            }
            total = sum(WEIGHTS[name] * value for name, value in signals.items())
            subject = self.subjects.get(key)
            if subject and named_subjects and subject not in named_subjects:
                total *= SUBJECT_MISMATCH
            results.append(Scored(key, total, self.questions[best[0][1]].text, signals))
        return sorted(results, key=lambda s: s.score, reverse=True)


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm else {}
