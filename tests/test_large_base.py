"""A large knowledge base: the learned signal switches to nearest centroids, the real questions still find the
real entries among hundreds of look-alikes, and a reload re-analyses only what changed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import bot.knowledge as knowledge
from bot.matching import Matcher, learned
from bot.matching.analysis import Analyzer
from bot.matching.centroids import REPORTED, NearestCentroids
from bot.matching.evaluation import evaluate
from bot.matching.training import Trainer

ROOT = Path(__file__).resolve().parent.parent


def _synthetic():
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "bench" / "synthetic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """The project's base grown to 400 entries (more classes than the regression is used for)."""
    directory = _synthetic().grow(400, tmp_path_factory.mktemp("large") / "knowledge")
    kb, problems = knowledge.check(directory)
    assert kb is not None and not any(p.unreadable for p in problems)
    return kb, Matcher(kb)


def test_a_large_base_uses_centroids_and_reports_the_best_classes_and_every_out_of_scope_topic(large):
    kb, matcher = large
    classifier = matcher.signals.classifier
    assert isinstance(classifier, NearestCentroids)
    analysis = matcher.analyzer.analyze("家庭共济怎么开通")
    probabilities = classifier.probabilities(analysis)
    out_of_scope = {t.id for t in kb.out_of_scope}
    assert out_of_scope <= set(probabilities)
    assert len(probabilities) <= REPORTED + len(out_of_scope)
    assert sum(probabilities.values()) <= 1.0 + 1e-9
    best = max(probabilities, key=probabilities.get)
    assert best == "gongji-open-online"
    assert probabilities[best] > 20 / len(classifier.classes)  # far above an even share of 432 classes


def test_the_real_questions_still_find_the_real_entries_among_hundreds_of_look_alikes(large):
    kb, matcher = large
    report = evaluate(matcher.match, [q for q in kb.labelled if q.source.file.endswith("dev.jsonl")])
    assert report.top1 >= 0.9  # 94% at 400 entries, against 96% at 32
    assert report.confident_wrong <= 0.03
    assert report.false_accept <= 0.05
    real = [faq for faq in kb.faqs if not faq.id.startswith("synthetic-")]
    right = [faq for faq in real if matcher.match(faq.question.text).faq_id == faq.id]
    assert len(right) >= 0.9 * len(real)


def test_the_project_base_keeps_the_regression_over_every_class(kb, matcher):
    classifier = matcher.signals.classifier
    assert isinstance(classifier, learned.Classifier)
    probabilities = classifier.probabilities(matcher.analyzer.analyze("家庭共济怎么开通"))
    assert set(probabilities) == {f.id for f in kb.faqs} | {t.id for t in kb.out_of_scope}
    assert sum(probabilities.values()) == pytest.approx(1.0)


class CountingAnalyzer(Analyzer):
    """The real analyzer, counting the texts it analyses."""

    def __init__(self, *args):
        super().__init__(*args)
        self.texts: list[str] = []

    def analyze(self, text, *, homophones=True):
        self.texts.append(text)
        return super().analyze(text, homophones=homophones)


def test_a_reload_analyses_only_the_questions_that_changed(kb_dir):
    first = knowledge.load(kb_dir)
    Trainer(first, CountingAnalyzer(first.lexicon, first.smalltalk))
    question = first.faqs[0].questions[0].text
    path = next(p for p in (kb_dir / "faqs").glob("*.yaml") if question in p.read_text(encoding="utf-8"))
    path.write_text(path.read_text(encoding="utf-8").replace(question, question + "呢", 1), encoding="utf-8")
    edited = knowledge.load(kb_dir)
    analyzer = CountingAnalyzer(edited.lexicon, edited.smalltalk)
    Trainer(edited, analyzer)
    assert analyzer.texts == [question + "呢"]
