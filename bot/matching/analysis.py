"""The pipeline a text goes through before scoring: normalise, find the region, segment, canonicalise."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.knowledge import Lexicon, SmalltalkIntent

from .normalize import normalize, strip_phrases
from .pinyin import HomophoneReader
from .regions import RegionFinder, RegionMention
from .segment import Segmenter
from .smalltalk import SmalltalkFinder
from .synonyms import canonicalize, content_words

#: A message this long (characters, after normalising) is a story; its question is usually at the end.
STORY_CHARACTERS = 40
#: The tail read on its own: the last clauses adding up to at least this many characters …
TAIL_CHARACTERS = 12
#: … or, when voice input left no punctuation to cut at, this many last characters.
UNPUNCTUATED_TAIL = 20
#: Clauses whose words and pinyin reading are remembered: a story's last clauses are read again as its tail,
#: and users repeat the same few questions.
REMEMBERED_CLAUSES = 4096


@dataclass(frozen=True)
class View:
    """One reading of the question: its canonical content words."""

    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Analysis:
    """A text as the matcher sees it."""

    normalized: str
    region: RegionMention | None
    smalltalk: str | None  # the intent of a greeting, thanks … at either end of the text
    words: tuple[str, ...]  # jieba's words after fillers, small talk and place names are gone
    typed: View
    heard: View | None  # the pinyin channel's reading, when it differs from what was typed
    tail: Analysis | None = None  # a long story's last clause or two, analysed on their own

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.typed.tokens

    @property
    def every_token(self) -> frozenset[str]:
        """Every word of the question, as typed and as the pinyin channel heard it."""
        return frozenset(self.typed.tokens) | frozenset(self.heard.tokens if self.heard else ())


class Analyzer:
    """Holds the segmenter, gazetteer and homophone reader built from one lexicon."""

    def __init__(self, lexicon: Lexicon, smalltalk: tuple[SmalltalkIntent, ...] = ()):
        self.lexicon = lexicon
        self.intents = smalltalk
        self.smalltalk = SmalltalkFinder(smalltalk, lexicon.fillers)
        self.segmenter = Segmenter(lexicon)
        # The pinyin channel reads typos as dictionary or canonical words only: variants such as 什么事
        # would turn the everyday 什么是 into another word.
        domain_terms = {word for word, _, _ in lexicon.user_words} | set(lexicon.synonyms.values())
        self.homophones = HomophoneReader(domain_terms)
        self.regions = RegionFinder(
            lexicon.provinces, frozenset(domain_terms | set(lexicon.synonyms)), self.segmenter.knows_well
        )
        self._read_clause = lru_cache(maxsize=REMEMBERED_CLAUSES)(self._words_and_reading)

    def analyze(self, text: str, *, homophones: bool = True) -> Analysis:
        normalized = normalize(text)
        mentions = self.regions.find_all(normalized)
        rest, intent = self.smalltalk.peel(self.regions.remove(normalized, mentions))
        read = [self._read_clause(clause) for clause in strip_phrases(rest, self.lexicon.fillers).split()]
        clauses = [list(words) for words, _ in read]
        readings = [reading for _, reading in read]
        places = self.regions.places(mentions)
        if len(places) > 1 and self.lexicon.two_places:
            clauses.append([self.lexicon.two_places])  # "我在苏州，我爸在南京": a question across regions
            readings.append(None)
        heard = None
        if homophones and any(readings):
            heard = self._view([list(r) if r else w for r, w in zip(readings, clauses, strict=True)])
        return Analysis(
            normalized=normalized,
            region=places[0] if places else None,
            smalltalk=intent,
            words=tuple(word for words in clauses for word in words),
            typed=self._view(clauses),
            heard=heard,
            tail=self._tail(normalized, homophones),
        )

    def _tail(self, normalized: str, homophones: bool) -> Analysis | None:
        """The end of a long story, where its question usually is, as an analysis of its own."""
        if len(normalized) < STORY_CHARACTERS:
            return None
        clauses = normalized.split()
        if len(clauses) == 1:
            return self.analyze(normalized[-UNPUNCTUATED_TAIL:], homophones=homophones)
        tail: list[str] = []
        while clauses and sum(map(len, tail)) < TAIL_CHARACTERS:
            tail.insert(0, clauses.pop())
        return self.analyze(" ".join(tail), homophones=homophones)

    def forget(self) -> None:
        """Drop the remembered clauses: the benchmarks time every question as if seen for the first time."""
        self._read_clause.cache_clear()

    def _words_and_reading(self, clause: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
        """One clause's words, and the pinyin channel's reading of them if it heard something else."""
        words = self.segmenter.cut(clause)
        reading = self.homophones.read(words)
        return tuple(words), tuple(reading) if reading else None

    def _view(self, clauses: list[list[str]]) -> View:
        return View(tuple(self.tokens_of([word for words in clauses for word in words])))

    def tokens_of(self, words: list[str]) -> list[str]:
        lexicon = self.lexicon
        return content_words(canonicalize(words, lexicon.synonyms), lexicon.stopwords)
