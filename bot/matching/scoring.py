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

import numpy as np
from rapidfuzz import fuzz, process

#: How much each signal counts.
WEIGHTS = {"overlap": 9 / 24, "chars": 4 / 24, "coverage": 4 / 24, "centroid": 7 / 24}
#: Score factor for an entry about one product (亲情账户) when the question names only the other (共济).
SUBJECT_MISMATCH = 0.85
#: Weight of a word no entry uses, relative to the rarest known word.
UNKNOWN_WORD_WEIGHT = 0.5
#: Entries, best by the other signals, that the character signal is computed for: with its weight of 1/6 an
#: entry further down would need a near-perfect character match to reach the few reported.
CHAR_CONTENDERS = 48
#: A word in more stored questions than this is too common to find candidates by (at 1,000 entries 绑定 is in
#: 5,683, at 10,000 in tens of thousands): it still counts in the scores of the questions the rarer words found,
#: and the questions a query touches stay a few thousand however large the base. The project's own base has no
#: word that common (共济: 1,282 of 4,555 questions), so its results are unchanged.
COMMON_POSTINGS = 2000

#: A question whose postings number at least 1/DENSE_POSTINGS of the stored questions has them counted in one
#: pass over the whole base instead of sorted: at 6,400 stored questions a 20-word story's 7,300 postings took
#: 97 µs to sort and 22 µs to count.
DENSE_POSTINGS = 4


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
    """An index of every stored question, built once per knowledge base; scoring is a few array operations."""

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
        self.keys = [key for key, _ in entries]
        entry_index = {key: i for i, key in enumerate(self.keys)}
        if len(entry_index) < len(self.keys):  # score() reads each entry's questions as one run of numbers
            raise ValueError("two entries share a key")
        self.questions: list[_Question] = []
        question_entry = []
        entry_vocabulary: list[set[str]] = [set() for _ in entries]
        postings: dict[str, list[int]] = defaultdict(list)
        for key, questions in entries:
            for text, tokens in questions:
                token_set = frozenset(tokens)
                entry_vocabulary[entry_index[key]] |= token_set
                weight = sum(self.weight(t) for t in token_set)
                for token in token_set:
                    postings[token].append(len(self.questions))
                question_entry.append(entry_index[key])
                self.questions.append(_Question(key, text, token_set, " ".join(sorted(token_set)), weight))
        self._question_entry = np.array(question_entry, dtype=np.int64)
        self._question_weight = np.array([q.weight for q in self.questions])
        self._joined = [q.joined for q in self.questions]
        self._postings = {token: np.array(indices, dtype=np.int64) for token, indices in postings.items()}
        # A common word is looked up in the questions the rarer words found: one bit per stored question reads
        # them in a few microseconds, where bisecting its postings took 75 µs a word at 1,000 entries.
        self._common = {
            token: _bits(indices, len(self.questions))
            for token, indices in self._postings.items()
            if len(indices) > COMMON_POSTINGS
        }
        # Per word: the entries using it and the word's weight in each entry's centroid, so a question
        # touches only the entries that share its words.
        entries_with: dict[str, list[int]] = defaultdict(list)
        centroid_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        by_entry: list[list[_Question]] = [[] for _ in entries]
        for question, entry in zip(self.questions, question_entry, strict=True):
            by_entry[entry].append(question)
        for entry, words in enumerate(entry_vocabulary):
            for token in words:
                entries_with[token].append(entry)
            for token, value in self._centroid(by_entry[entry]).items():
                centroid_postings[token].append((entry, value))
        self._entries_with = {t: np.array(e, dtype=np.int64) for t, e in entries_with.items()}
        self._centroid_postings = {
            t: (np.array([e for e, _ in pairs], dtype=np.int64), np.array([v for _, v in pairs]))
            for t, pairs in centroid_postings.items()
        }
        self.subjects = subjects or {}
        self.subject_words = frozenset(self.subjects.values())
        entry_subject = np.array([self.subjects.get(key) or "" for key in self.keys], dtype=object)
        self._about = {subject: entry_subject == subject for subject in self.subject_words}

    def _centroid(self, questions: list[_Question]) -> dict[str, float]:
        vectors = [_unit({t: self.weight(t) for t in q.tokens}) for q in questions]
        total: dict[str, float] = defaultdict(float)
        for vector in vectors:
            for token, value in vector.items():
                total[token] += value / len(vectors)
        return _unit(total)

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.unknown_weight)

    def score(self, tokens: tuple[str, ...], limit: int | None = None) -> list[Scored]:
        """The entries that share a word with the question, best first; the best `limit` of them if given."""
        query = [t for t in dict.fromkeys(tokens) if t in self._postings]
        if not query:
            return []
        weights = {t: self.weight(t) for t in dict.fromkeys(tokens)}
        query_weight = sum(weights.values())
        # Weighted Dice per stored question: the F1 of weighted precision (of the stored question) and
        # recall (of the user's).
        finders = [t for t in query if t not in self._common]
        finders = finders or [min(query, key=lambda t: len(self._postings[t]))]
        touched = np.concatenate([self._postings[t] for t in finders])
        touched_weights = np.repeat([weights[t] for t in finders], [len(self._postings[t]) for t in finders])
        # The questions found, ascending, and the weight each shares with the question, summed in word order:
        # counted over the whole base when the postings reach a good part of it (a long story touches more
        # postings than there are stored questions), else by sorting the postings.
        if len(touched) * DENSE_POSTINGS >= len(self.questions):
            shared = np.bincount(touched, weights=touched_weights, minlength=len(self.questions))
            hit = np.flatnonzero(shared)
            shared = shared[hit]
        else:
            hit, position = np.unique(touched, return_inverse=True)
            shared = np.bincount(position, weights=touched_weights)
        for token in query:
            if token not in finders:  # a common word: added to the questions found that have it
                shared += weights[token] * _in(self._common[token], hit)
        overlap = 2 * shared / (query_weight + self._question_weight[hit])
        # Stored questions are numbered entry by entry, so the questions found come grouped by entry.
        hit_entry = self._question_entry[hit]
        starts_here = np.ones(len(hit), dtype=bool)
        starts_here[1:] = hit_entry[1:] != hit_entry[:-1]
        starts = np.flatnonzero(starts_here)
        # From here on only the entries found count, ascending: arrays of their size, not the base's.
        found = hit_entry[starts]
        slot = np.cumsum(starts_here) - 1  # each found question's entry, as a position in `found`
        # The two best questions of each entry: the best overlap, then the best of the rest.
        best_overlap = np.maximum.reduceat(overlap, starts)
        best_at = _first_of_each(np.flatnonzero(overlap == best_overlap[slot]), slot)
        rest = overlap.copy()
        rest[best_at] = -1.0
        second_overlap = np.maximum.reduceat(rest, starts)
        second_at = _first_of_each(np.flatnonzero((rest == second_overlap[slot]) & (rest >= 0)), slot)
        second_overlap = np.maximum(second_overlap, 0.0)  # an entry with one question found has no second
        best_question = hit[best_at]
        # Coverage and centroid summed over every entry at once (one bincount each, the size of the base),
        # then read off for the entries found.
        query_vector = _unit(weights)
        coverage = self._sum_over_entries(
            [self._entries_with[t] for t in query], [weights[t] / query_weight for t in query]
        )[found]
        centroid_found = [t for t in query if t in self._centroid_postings]
        centroid = self._sum_over_entries(
            [self._centroid_postings[t][0] for t in centroid_found],
            [query_vector[t] for t in centroid_found],
            [self._centroid_postings[t][1] for t in centroid_found],
        )[found]
        totals = (
            WEIGHTS["overlap"] * (best_overlap + second_overlap) / 2
            + WEIGHTS["coverage"] * coverage
            + WEIGHTS["centroid"] * centroid
        )
        # The character signal is the costly one; only entries already near the top can still change places.
        if limit is None or len(found) <= CHAR_CONTENDERS:
            contenders = np.ones(len(found), dtype=bool)
        else:
            contenders = np.zeros(len(found), dtype=bool)
            contenders[np.argsort(-totals, kind="stable")[:CHAR_CONTENDERS]] = True
        joined_query = " ".join(sorted(weights))
        chars = np.zeros(len(found))
        chosen = np.concatenate([best_at, second_at])
        chosen = chosen[contenders[slot[chosen]]]
        if len(chosen):
            choices = [self._joined[i] for i in hit[chosen].tolist()]
            ratios = process.cdist([joined_query], choices, scorer=fuzz.ratio)[0] / 100
            np.maximum.at(chars, slot[chosen], ratios)
        totals += WEIGHTS["chars"] * chars
        named_subjects = set(weights) & self.subject_words
        if named_subjects:
            other = [about[found] for subject, about in self._about.items() if subject not in named_subjects]
            if other:
                totals[np.logical_or.reduce(other)] *= SUBJECT_MISMATCH
        ranked = np.argsort(-totals, kind="stable")[:limit]
        columns = zip(
            found[ranked].tolist(),
            totals[ranked].tolist(),
            best_question[ranked].tolist(),
            ((best_overlap[ranked] + second_overlap[ranked]) / 2).tolist(),
            chars[ranked].tolist(),
            coverage[ranked].tolist(),
            centroid[ranked].tolist(),
            (best_overlap[ranked] > 0.999).tolist(),
            strict=True,
        )
        return [
            Scored(
                self.keys[entry],
                total,
                self.questions[question].text,
                {
                    "overlap": overlap,
                    "chars": char,
                    "coverage": covered,
                    "centroid": central,
                    "same_words": float(same),
                },
            )
            for entry, total, question, overlap, char, covered, central, same in columns
        ]

    def _sum_over_entries(
        self, postings: list[np.ndarray], factors: list[float], values: list[np.ndarray] | None = None
    ) -> np.ndarray:
        """Per entry: the sum over words of the word's factor times its value there (1 where values are None)."""
        if not postings:
            return np.zeros(len(self.keys))
        weights = np.repeat(factors, [len(p) for p in postings])
        if values is not None:
            weights *= np.concatenate(values)
        return np.bincount(np.concatenate(postings), weights=weights, minlength=len(self.keys))


def _first_of_each(positions: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """Of ascending `positions`, the first in each group (`slot` numbers the group of every position)."""
    groups = slot[positions]
    keep = np.ones(len(positions), dtype=bool)
    keep[1:] = groups[1:] != groups[:-1]
    return positions[keep]


def _bits(indices: np.ndarray, size: int) -> np.ndarray:
    """The set of `indices` (all below `size`) as packed bits."""
    members = np.zeros(size, dtype=bool)
    members[indices] = True
    return np.packbits(members)


def _in(bits: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which of `values` are in the set packed by `_bits`."""
    return (bits[values >> 3] >> (7 - (values & 7))) & 1


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm else {}
