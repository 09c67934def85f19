"""Train a knowledge base's matcher: both signals, then the calibration on questions they had not seen."""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.knowledge import KnowledgeBase
from bot.knowledge.model import LabelledQuestion

from . import learned
from .analysis import Analysis, Analyzer
from .calibration import Calibrator, Example, candidates
from .centroids import NearestCentroids
from .decision import Policy, Thresholds, choose_thresholds
from .evidence import Signals
from .scoring import Scorer

#: Folds of the alternates: each is predicted by signals trained on the others, to learn the calibration.
FOLDS = 4
#: Held-out alternates the calibration learns from, at most: its few weights are settled by far fewer, and
#: describing each costs a full match, so a large base is not made to pay for all of them.
HELDOUT_LIMIT = 12000
#: Classes (FAQs and out-of-scope topics) above which the learned signal is nearest centroids: the regression's
#: training grows with classes × questions (566 s and +3.3 GB at 1,000 entries), the centroids' with the questions.
CENTROIDS_ABOVE = 300
#: A large base (the centroid signal, above CENTROIDS_ABOVE classes): one fold, and fewer held-out alternates. Its
#: alternates are many near-copies of each other; thousands of them outweighed the labelled questions in the
#: calibration and pushed the answer threshold to 0.96 (top-1 78% in-sample at 1,000 entries, 88% with 1,500).
LARGE_BASE_FOLDS = 1
LARGE_BASE_HELDOUT_LIMIT = 1500


#: The last base's analysed questions (text → analysis and features) with the fingerprint of the lexicon they
#: were analysed with: a reload re-analyses only the questions that are new or changed (about 1 ms each).
_ANALYSED: tuple[str, dict[str, tuple[Analysis, tuple[str, ...]]]] = ("", {})
_ANALYSED_LOCK = threading.Lock()

#: Models trained in this process, by everything their training reads (questions, examples, lexicon, labelled
#: questions, policy): a base whose answers alone changed, the most common edit, gets the model it already has
#: instead of being trained again. Weak: a model is kept only while a matcher uses it.
_MODELS: weakref.WeakValueDictionary[str, Model] = weakref.WeakValueDictionary()
_MODELS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Stored:
    """One stored question: an FAQ's question or alternate, or an out-of-scope example."""

    key: str
    text: str
    analysis: Analysis
    features: tuple[str, ...]  # the classifier's view of it, computed once for every fold
    standard: bool  # an FAQ's standard question stays in every fold: an entry is never left without one


@dataclass(frozen=True)
class Model:
    signals: Signals
    calibrator: Calibrator
    thresholds: Thresholds


class Trainer:
    """Holds one knowledge base's analysed questions; `fit` can run many times (cross-validation) cheaply."""

    def __init__(self, kb: KnowledgeBase, analyzer: Analyzer):
        self.kb = kb
        self.analyzer = analyzer
        fingerprint = _fingerprint(analyzer)
        self._lexicon_fingerprint = fingerprint
        self._analysed = _analysed(fingerprint)
        self.stored = [
            self._stored(faq.id, q.text, index == 0) for faq in kb.faqs for index, q in enumerate(faq.questions)
        ]
        self.stored += [self._stored(t.id, q.text, False) for t in kb.out_of_scope for q in t.examples]
        _keep(fingerprint, self._analysed)
        self.out_of_scope_ids = frozenset(t.id for t in kb.out_of_scope)
        self.subjects = _products(kb)
        self._heldout: list[Example] | None = None

    def signals(self, stored: Sequence[Stored]) -> Signals:
        """Scorer and classifier trained on these stored questions."""
        by_key: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
        for s in stored:
            by_key[s.key].append((s.text, list(s.analysis.typed.tokens)))
        scorer = Scorer(list(by_key.items()), self.subjects)
        examples = [learned.Example(s.key, s.features) for s in stored]
        if len(by_key) > CENTROIDS_ABOVE:
            classifier: learned.Classifier | NearestCentroids = NearestCentroids(examples, self.out_of_scope_ids)
        else:
            classifier = learned.Classifier(examples)
        return Signals(scorer, classifier, self.out_of_scope_ids, self.kb.lexicon.anchors)

    def heldout(self) -> list[Example]:
        """Alternates and out-of-scope examples (a random sample in a large base), each described by signals
        trained without it; computed once."""
        if self._heldout is None:
            # Each question's fold and place in the sample follow from its own text, not from its position in
            # the files: an operator's edit moves only the questions it touches, so the thresholds learned from
            # the folds do not jump with every small change (a reshuffle moved the answer threshold by 0.02).
            place = {i: self._shuffled(i) for i, s in enumerate(self.stored) if not s.standard}
            movable = sorted(place, key=place.__getitem__)
            large = len({s.key for s in self.stored}) > CENTROIDS_ABOVE
            folds, limit = (LARGE_BASE_FOLDS, LARGE_BASE_HELDOUT_LIMIT) if large else (FOLDS, HELDOUT_LIMIT)
            examples = []
            for fold in range(folds):
                in_fold = [i for i in movable if place[i] % FOLDS == fold]
                held = set(in_fold)
                signals = self.signals([s for i, s in enumerate(self.stored) if i not in held])
                for i in sorted(in_fold[: limit // folds]):  # in_fold is in shuffled order
                    stored = self.stored[i]
                    expect = frozenset() if stored.key in self.out_of_scope_ids else frozenset({stored.key})
                    examples.append(_example(signals, stored.analysis, expect, labelled=False))
            self._heldout = examples
        return self._heldout

    def fit(self, labelled: Sequence[LabelledQuestion], policy: Policy) -> Model:
        """Signals on every stored question; calibration on the held-out alternates and the labelled questions.
        The same inputs give the model already trained, if a matcher still uses it."""
        key = self._inputs_fingerprint(labelled, policy)
        with _MODELS_LOCK:
            model = _MODELS.get(key)
        if model is None:
            model = self._fit(labelled, policy)
            with _MODELS_LOCK:
                _MODELS[key] = model
        return model

    def _fit(self, labelled: Sequence[LabelledQuestion], policy: Policy) -> Model:
        signals = self.signals(self.stored)
        examples = self.heldout() + [
            _example(signals, self.analyzer.analyze(item.text), frozenset(item.expect), labelled=True)
            for item in labelled
        ]
        calibrator = Calibrator(examples)
        return Model(signals, calibrator, choose_thresholds(calibrator, examples, policy))

    def _inputs_fingerprint(self, labelled: Sequence[LabelledQuestion], policy: Policy) -> str:
        """Everything a model's training reads: the stored questions with their entries, the lexicon and small
        talk they are analysed with, the products and anchors, the labelled questions and the policy."""
        inputs = (
            self._lexicon_fingerprint,
            [(s.key, s.text, s.standard) for s in self.stored],
            sorted(self.out_of_scope_ids),
            sorted(self.subjects.items()),
            sorted(self.kb.lexicon.anchors),
            [(item.text, tuple(item.expect)) for item in labelled],
            policy,
        )
        return hashlib.sha256(repr(inputs).encode()).hexdigest()

    def _shuffled(self, index: int) -> int:
        """A stored question's place in a fixed shuffle, from its entry and text alone."""
        stored = self.stored[index]
        return int.from_bytes(hashlib.sha256(f"{stored.key}\n{stored.text}".encode()).digest()[:8], "big")

    def _stored(self, key: str, text: str, standard: bool) -> Stored:
        if text not in self._analysed:
            analysis = self.analyzer.analyze(text)
            self._analysed[text] = (analysis, learned.features(analysis))
        analysis, features = self._analysed[text]
        return Stored(key, text, analysis, features, standard)


def _products(kb: KnowledgeBase) -> dict[str, str]:
    """Each FAQ's product (共济, 亲情账户): its category, where the lexicon knows other names for it. Comparisons
    and general entries (区别对比, 通用) are about no one product, so naming one never counts against them."""
    products = set(kb.lexicon.synonyms.values())
    canonical = {faq.id: kb.lexicon.synonyms.get(faq.category, faq.category) for faq in kb.faqs}
    return {key: word for key, word in canonical.items() if word in products}


def _fingerprint(analyzer: Analyzer) -> str:
    """What an analysis depends on besides the text: the lexicon and the small-talk phrases (not their replies or
    where they were read: a draft's copy of the files analyses alike)."""
    intents = [(intent.id, intent.phrases) for intent in analyzer.intents]
    return hashlib.sha256(repr((analyzer.lexicon, intents)).encode()).hexdigest()


def _analysed(fingerprint: str) -> dict[str, tuple[Analysis, tuple[str, ...]]]:
    """A fresh cache holding the previous build's analyses if they were made with the same lexicon."""
    kept, analysed = _ANALYSED
    return dict(analysed) if kept == fingerprint else {}


def _keep(fingerprint: str, analysed: dict[str, tuple[Analysis, tuple[str, ...]]]) -> None:
    global _ANALYSED
    with _ANALYSED_LOCK:
        _ANALYSED = (fingerprint, analysed)


def _example(signals: Signals, analysis: Analysis, expect: frozenset[str], labelled: bool) -> Example:
    return Example(tuple(candidates(signals.gather(analysis).evidence)), expect, labelled)
