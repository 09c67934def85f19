"""Question text → Match: which FAQ answers it, or why none does."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge import KnowledgeBase

from .analysis import Analysis, Analyzer
from .decision import Thresholds, decide
from .scoring import Scored, Scorer

#: The pinyin channel is a second opinion: its reading counts for a little less than what was typed.
HOMOPHONE_DISCOUNT = 0.95

__all__ = ["Candidate", "Match", "Matcher", "Thresholds"]


@dataclass(frozen=True)
class Candidate:
    faq_id: str
    score: float


@dataclass(frozen=True)
class Explanation:
    """What `faq ask --explain` shows: the tokens, the scored entries and the band the decision fell in."""

    analysis: Analysis
    used_homophones: bool
    faqs: tuple[Scored, ...]
    out_of_scope: tuple[Scored, ...]
    band: str


@dataclass(frozen=True)
class Match:
    action: str  # answer | clarify | fallback | smalltalk
    faq_id: str | None
    score: float
    candidates: tuple[Candidate, ...]  # clarify: the options offered, in order; otherwise the top 3
    region: str | None = None  # province-level short name
    place: str | None = None  # the city or province as named, for city-level regional notes
    intent: str | None = None  # smalltalk intent, or the out-of-scope topic a fallback matched
    explanation: Explanation | None = field(default=None, compare=False, repr=False)


class Matcher:
    """Built once per knowledge base; `match` is pure and safe to call from many threads."""

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None):
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self.analyzer = Analyzer(kb.lexicon, kb.smalltalk)
        entries = [(faq.id, [(q.text, self._stored_tokens(q.text)) for q in faq.questions]) for faq in kb.faqs]
        entries += [
            (topic.id, [(q.text, self._stored_tokens(q.text)) for q in topic.examples]) for topic in kb.out_of_scope
        ]
        subjects = {faq.id: kb.lexicon.synonyms.get(faq.category, faq.category) for faq in kb.faqs}
        self.scorer = Scorer(entries, subjects)
        self._out_of_scope_ids = frozenset(topic.id for topic in kb.out_of_scope)

    def _stored_tokens(self, text: str) -> list[str]:
        return list(self.analyzer.analyze(text, homophones=False).tokens)

    def match(self, text: str) -> Match:
        """Decide what to do with one user message."""
        analysis = self.analyzer.analyze(text)
        region = analysis.region.province if analysis.region else None
        place = analysis.region.place if analysis.region else None
        if not analysis.tokens:
            explanation = Explanation(analysis, False, (), (), "small talk or nothing left to match")
            return Match("smalltalk", None, 0.0, (), region, place, analysis.smalltalk, explanation)

        scored, used_homophones = self._score(analysis)
        faqs = [s for s in scored if s.key not in self._out_of_scope_ids]
        out_of_scope = [s for s in scored if s.key in self._out_of_scope_ids]
        tokens = (analysis.heard if used_homophones else analysis.typed).tokens
        anchored = any(token in self.kb.lexicon.anchors for token in tokens)
        if self.scorer.subject_words.intersection(tokens):
            out_of_scope = []  # naming 共济 or 亲情账户 makes it a question about them, whatever else it shares
        decision = decide(faqs, out_of_scope, anchored, len(tokens), self.thresholds)
        explanation = Explanation(analysis, used_homophones, tuple(faqs[:5]), tuple(out_of_scope[:3]), decision.band)
        top = tuple(Candidate(s.key, round(s.score, 4)) for s in faqs[:3])
        best_score = round(faqs[0].score, 4) if faqs else 0.0
        if decision.action == "answer":
            return Match("answer", faqs[0].key, best_score, top, region, place, None, explanation)
        if decision.action == "clarify":
            options = tuple(Candidate(s.key, round(s.score, 4)) for s in decision.options)
            return Match("clarify", None, best_score, options, region, place, None, explanation)
        topic = out_of_scope[0].key if out_of_scope else None
        return Match("fallback", None, best_score, top, region, place, topic, explanation)

    def rank(self, text: str) -> list[Candidate]:
        """Every FAQ sharing a word with the text, best first, without deciding: for search boxes."""
        scored, _ = self._score(self.analyzer.analyze(text))
        return [Candidate(s.key, round(s.score, 4)) for s in scored if s.key not in self._out_of_scope_ids]

    def _score(self, analysis: Analysis) -> tuple[list[Scored], bool]:
        """Score what was typed and, if the pinyin channel heard something else, that too; keep the better."""
        typed = self.scorer.score(analysis.typed.tokens)
        if analysis.heard is None:
            return typed, False
        heard = [
            Scored(s.key, s.score * HOMOPHONE_DISCOUNT, s.question, s.signals)
            for s in self.scorer.score(analysis.heard.tokens)
        ]
        typed_best = typed[0].score if typed else 0.0
        heard_best = heard[0].score if heard else 0.0
        return (heard, True) if heard_best > typed_best else (typed, False)
