"""Question text → Match: which FAQ answers it, or why none does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.knowledge import KnowledgeBase
from bot.knowledge.model import LabelledQuestion

from .analysis import Analysis, Analyzer
from .calibration import candidates
from .decision import Decision, Policy, Ranked, Thresholds, decide
from .evidence import Gathered
from .training import Trainer

__all__ = ["Candidate", "Match", "Matcher", "Policy", "Thresholds", "Trainer"]


@dataclass(frozen=True)
class Candidate:
    faq_id: str
    score: float  # the calibrated probability that this FAQ is the right answer


@dataclass(frozen=True)
class Weighed:
    """One candidate FAQ with its signals and the probability they add up to."""

    faq_id: str
    probability: float
    signals: dict[str, float]


@dataclass(frozen=True)
class Explanation:
    """What `faq ask --explain` shows: the tokens, each signal, the probabilities and the decision."""

    analysis: Analysis
    gathered: Gathered | None
    weighed: tuple[Weighed, ...]
    thresholds: Thresholds
    band: str


@dataclass(frozen=True)
class Match:
    action: str  # answer | clarify | fallback | smalltalk
    faq_id: str | None
    score: float  # probability that the best FAQ is right
    candidates: tuple[Candidate, ...]  # clarify: the options offered, in order; otherwise the top 3
    region: str | None = None  # province-level short name
    place: str | None = None  # the city or province as named, for city-level regional notes
    intent: str | None = None  # smalltalk intent, or the out-of-scope topic a fallback matched
    explanation: Explanation | None = field(default=None, compare=False, repr=False)


#: An out-of-scope topic's own referral ("this is about 公积金, ask …") needs at least this much behind it:
#: telling a user their question is not about 医保 when it was, only unclear, is worse than saying so.
OUT_OF_SCOPE_LEAN = 0.3


#: The word every name of the medical insurance holds (医保, 医保卡, 职工医保, 医保电子凭证, 国家医保服务平台 …).
MEDICAL_INSURANCE = "医保"


def _best(scores: dict[str, float]) -> str | None:
    return max(scores, key=scores.__getitem__) if scores else None


class Matcher:
    """Trained once per knowledge base (calibrated on `labelled`, default the base's own labelled questions);
    `match` is pure and safe to call from many threads."""

    def __init__(
        self,
        kb: KnowledgeBase,
        policy: Policy | None = None,
        labelled: Sequence[LabelledQuestion] | None = None,
        trainer: Trainer | None = None,
    ):
        self.kb = kb
        self.policy = policy or Policy()
        self.trainer = trainer or Trainer(kb, Analyzer(kb.lexicon, kb.smalltalk))
        self.analyzer = self.trainer.analyzer
        # Held by the matcher: the trainer hands a model to another matcher on the same inputs only while one does.
        self.model = self.trainer.fit(kb.labelled if labelled is None else labelled, self.policy)
        self.signals = self.model.signals
        self.calibrator = self.model.calibrator
        self.thresholds = self.model.thresholds

    def match(self, text: str) -> Match:
        """Decide what to do with one user message."""
        analysis = self.analyzer.analyze(text)
        region = analysis.region.province if analysis.region else None
        place = analysis.region.place if analysis.region else None
        if not analysis.tokens:
            explanation = Explanation(analysis, None, (), self.thresholds, "small talk or nothing left to match")
            return Match("smalltalk", None, 0.0, (), region, place, analysis.smalltalk, explanation)
        gathered = self.signals.gather(analysis)
        weighed = self._weigh(gathered)
        ranked = [Ranked(w.faq_id, w.probability) for w in weighed]
        same = gathered.evidence.same_words
        written_down = next(iter(same)) if len(same) == 1 and not same & self.signals.out_of_scope_ids else None
        if written_down not in {r.faq_id for r in ranked}:
            written_down = None
        else:
            ranked.sort(key=lambda r: r.faq_id != written_down)  # stable: the rest keep their order
        decision = decide(ranked, self.thresholds, written_down, story=analysis.tail is not None)
        # "医保家庭账户怎么开" names 共济 (家庭账户) and 医保: however much it shares with a bank's family account,
        # it is never referred elsewhere.
        named = bool(gathered.evidence.named_products)
        about_insurance = named and any(MEDICAL_INSURANCE in token for token in analysis.every_token)
        topic = None if about_insurance else self._out_of_scope_topic(gathered)
        if decision.action == "fallback" and ranked and topic is None and named:
            # The user named 共济 or 亲情账户: whatever was misheard, they asked about us; ask back, never refer away.
            decision = Decision("clarify", f"{decision.band}, but a product is named: asking back", tuple(ranked[:2]))
        explanation = Explanation(analysis, gathered, tuple(weighed), self.thresholds, decision.band)
        top = tuple(Candidate(r.faq_id, round(r.probability, 4)) for r in ranked[:3])
        best = top[0].score if top else 0.0
        if decision.action == "answer":
            return Match("answer", ranked[0].faq_id, best, top, region, place, None, explanation)
        if decision.action == "clarify":
            offered = list(decision.options)
            end = _best(gathered.evidence.learned_at_end) if analysis.tail is not None else None
            if end is not None and end not in {r.faq_id for r in offered}:
                # A long story's context can outweigh its last clause; the question asked there is offered too.
                offered.append(next((r for r in ranked if r.faq_id == end), Ranked(end, 0.0)))
            options = tuple(Candidate(r.faq_id, round(r.probability, 4)) for r in offered)
            return Match("clarify", None, best, options, region, place, None, explanation)
        return Match("fallback", None, best, top, region, place, topic, explanation)

    def rank(self, text: str) -> list[Candidate]:
        """FAQs that may answer the text, most probable first, without deciding: for search boxes."""
        analysis = self.analyzer.analyze(text)
        if not analysis.tokens:
            return []
        return [Candidate(w.faq_id, round(w.probability, 4)) for w in self._weigh(self.signals.gather(analysis))]

    def _weigh(self, gathered: Gathered) -> list[Weighed]:
        found = candidates(gathered.evidence)
        probabilities = self.calibrator.probabilities(found)
        weighed = [Weighed(c.faq_id, p, c.signals) for c, p in zip(found, probabilities, strict=True)]
        return sorted(weighed, key=lambda w: w.probability, reverse=True)

    def _out_of_scope_topic(self, gathered: Gathered) -> str | None:
        """The out-of-scope topic the question is most likely about, if both signals lean that way at all."""
        topics = {k: p for k, p in gathered.learned.items() if k in self.signals.out_of_scope_ids}
        if not topics:
            return None
        topic = max(topics, key=topics.__getitem__)
        evidence = gathered.evidence
        learned_leans = topics[topic] > max([OUT_OF_SCOPE_LEAN, *evidence.learned.values()])
        lexical_leans = evidence.out_of_scope_lexical >= max([OUT_OF_SCOPE_LEAN, *evidence.lexical.values()])
        return topic if learned_leans or lexical_leans else None
