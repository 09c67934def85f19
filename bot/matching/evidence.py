"""Both signals on one question: the lexical scorer's and the classifier's view, gathered for calibration."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .analysis import Analysis
from .calibration import Evidence
from .centroids import NearestCentroids
from .learned import Classifier
from .scoring import Scored, Scorer

#: Entries the lexical signal reports, best first: enough for every candidate and the nearest out-of-scope topic.
LEXICAL_BEST = 12
#: The pinyin channel is a second opinion: its reading counts for a little less than what was typed.
HOMOPHONE_DISCOUNT = 0.95


@dataclass(frozen=True)
class Gathered:
    """The evidence, and the detail behind it for `faq ask --explain`."""

    evidence: Evidence
    scored: tuple[Scored, ...]  # lexical, FAQs and out-of-scope topics, best first
    learned: dict[str, float]  # classifier probability of every class (a large base: the best few, out-of-scope ones)
    used_homophones: bool


class Signals:
    """The scorer and classifier of one knowledge base (or of one training fold of it)."""

    def __init__(
        self,
        scorer: Scorer,
        classifier: Classifier | NearestCentroids,
        out_of_scope_ids: frozenset[str],
        anchors: frozenset[str],
    ):
        self.scorer = scorer
        self.classifier = classifier
        self.out_of_scope_ids = out_of_scope_ids
        self.anchors = anchors

    def gather(self, analysis: Analysis) -> Gathered:
        scored, used_homophones = self._lexical(analysis)
        tokens = analysis.every_token
        faqs = {s.key: s.score for s in scored if s.key not in self.out_of_scope_ids}
        out_of_scope = [s.score for s in scored if s.key in self.out_of_scope_ids]
        named = self.scorer.subject_words & tokens
        if named:
            out_of_scope = []  # naming 共济 or 亲情账户 makes it a question about them, whatever else it shares
        # Once the pinyin channel's reading explains the question better, the classifier reads it that way too.
        learned = self.classifier.probabilities(
            replace(analysis, typed=analysis.heard) if used_homophones else analysis
        )
        ours = {k: p for k, p in learned.items() if k not in self.out_of_scope_ids}
        if analysis.tail is not None:
            tail = self.classifier.probabilities(analysis.tail)
            ours_at_end = {k: p for k, p in tail.items() if k not in self.out_of_scope_ids}
            tail_scored, _ = self._lexical(analysis.tail)
            lexical_at_end = {s.key: s.score for s in tail_scored if s.key not in self.out_of_scope_ids}
        else:
            ours_at_end, lexical_at_end = ours, faqs
        evidence = Evidence(
            lexical=faqs,
            same_words=frozenset(s.key for s in scored if s.signals.get("same_words")),
            learned=ours,
            learned_at_end=ours_at_end,
            lexical_at_end=lexical_at_end,
            story=analysis.tail is not None,
            out_of_scope_learned=sum(p for k, p in learned.items() if k in self.out_of_scope_ids),
            out_of_scope_lexical=max(out_of_scope, default=0.0),
            named_products=frozenset(named),
            products=self.scorer.subjects,
            anchored=bool(tokens & self.anchors),
            words=len(analysis.typed.tokens),
        )
        return Gathered(evidence, tuple(scored), learned, used_homophones)

    def _lexical(self, analysis: Analysis) -> tuple[list[Scored], bool]:
        """Score what was typed and, if the pinyin channel heard something else, that too; keep the better."""
        typed = self.scorer.score(analysis.typed.tokens, LEXICAL_BEST)
        if analysis.heard is None:
            return typed, False
        heard = [
            Scored(s.key, s.score * HOMOPHONE_DISCOUNT, s.question, s.signals)
            for s in self.scorer.score(analysis.heard.tokens, LEXICAL_BEST)
        ]
        typed_best = typed[0].score if typed else 0.0
        heard_best = heard[0].score if heard else 0.0
        return (heard, True) if heard_best > typed_best else (typed, False)
