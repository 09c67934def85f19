"""Two thresholds and a margin turn scores into answer / clarify / fallback."""

from __future__ import annotations

from dataclasses import dataclass

from .scoring import Scored


@dataclass(frozen=True)
class Thresholds:
    """Defaults chosen on the dev set (see README, "Matcher accuracy")."""

    answer: float = 0.25  # the best entry must reach this to be answered
    margin: float = 0.045  # … and lead the runner-up by this share of its own score
    clarify: float = 0.2  # below this nothing is offered: fallback
    option_gap: float = 0.15  # a clarify option scores within this of the best
    max_options: int = 4
    min_tokens: int = 2  # fewer content words than this is too generic to answer outright


@dataclass(frozen=True)
class Decision:
    action: str  # answer | clarify | fallback
    band: str  # why, in words, for `faq ask --explain`
    options: tuple[Scored, ...] = ()


def decide(faqs: list[Scored], out_of_scope: list[Scored], anchored: bool, token_count: int, t: Thresholds) -> Decision:
    """Pick the outcome; a wrong answer is worse than a question back, so ties and doubt clarify."""
    if not faqs:
        return Decision("fallback", "no entry shares a word with the question")
    best = faqs[0]
    if not anchored:
        return Decision("fallback", "no family-account word (anchors.txt) in the question")
    if out_of_scope and out_of_scope[0].score >= best.score:
        return Decision("fallback", f"closer to out-of-scope topic '{out_of_scope[0].key}'")
    if best.score < t.clarify:
        return Decision("fallback", f"best score {best.score:.3f} < clarify threshold {t.clarify}")
    # An out-of-scope topic close behind is a runner-up too: the question may well be about it.
    runner_up = max(faqs[1].score if len(faqs) > 1 else 0.0, out_of_scope[0].score if out_of_scope else 0.0)
    options = tuple(s for s in faqs[: t.max_options] if s.score >= max(t.clarify, best.score - t.option_gap))
    if token_count < t.min_tokens:
        return Decision(
            "clarify", f"only {token_count} content word(s): too generic to answer", _at_least_two(faqs, options, t)
        )
    lead = (best.score - runner_up) / best.score
    if best.score >= t.answer and lead >= t.margin:
        return Decision("answer", f"score {best.score:.3f} >= {t.answer} and lead {lead:.1%} >= {t.margin:.1%}")
    if best.score >= t.answer:
        reason = f"lead {lead:.1%} over the runner-up < {t.margin:.1%}"
    else:
        reason = f"score {best.score:.3f} between clarify {t.clarify} and answer {t.answer}"
    return Decision("clarify", reason, _at_least_two(faqs, options, t))


def _at_least_two(faqs: list[Scored], options: tuple[Scored, ...], t: Thresholds) -> tuple[Scored, ...]:
    """A choice of one is no choice: offer the runner-up too when it scored anything at all."""
    if len(options) >= 2:
        return options
    return tuple(faqs[: min(2, t.max_options)])
