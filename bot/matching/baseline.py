"""The plain baseline the matcher must beat: rapidfuzz WRatio of the raw question against the titles."""

from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.knowledge import KnowledgeBase

from . import Candidate, Match

#: The single threshold, chosen on the dev set like the matcher's (best top-1 at false-accept ≤ 5%).
BASELINE_THRESHOLD = 60.0


class BaselineMatcher:
    """Answers with the closest standard question when WRatio clears one threshold, else falls back."""

    def __init__(self, kb: KnowledgeBase, threshold: float = BASELINE_THRESHOLD):
        self.titles = {faq.id: faq.title for faq in kb.faqs}
        self.threshold = threshold

    def match(self, text: str) -> Match:
        found = process.extract(text, self.titles, scorer=fuzz.WRatio, limit=3)
        candidates = tuple(Candidate(key, round(score / 100, 4)) for _, score, key in found)
        if found and found[0][1] >= self.threshold:
            return Match("answer", found[0][2], candidates[0].score, candidates)
        return Match("fallback", None, candidates[0].score if candidates else 0.0, candidates)
