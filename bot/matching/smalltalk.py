"""Greetings, thanks, help: recognised before any FAQ scoring so "谢谢" is never matched to an entry."""

from __future__ import annotations

from bot.knowledge import SmalltalkIntent

from .normalize import normalize


class SmalltalkFinder:
    """Peels small-talk phrases and fillers off both ends of a normalised text."""

    def __init__(self, intents: tuple[SmalltalkIntent, ...], fillers: tuple[str, ...]):
        phrases: dict[str, str | None] = {}
        for intent in intents:
            for phrase in intent.phrases:
                phrases.setdefault(normalize(phrase).replace(" ", ""), intent.id)
        for filler in fillers:
            phrases.setdefault(filler, None)
        phrases.pop("", None)
        self._phrases = phrases
        self._lengths = sorted({len(p) for p in phrases}, reverse=True)

    def peel(self, normalized: str) -> tuple[str, str | None]:
        """(what is left, the intent of the longest phrase peeled off)."""
        text = normalized.strip()
        intent, longest = None, 0
        peeled = True
        while text and peeled:
            peeled = False
            for length in self._lengths:
                head, tail = text[:length], text[-length:]
                phrase = head if head in self._phrases else tail if tail in self._phrases else None
                if phrase is None:
                    continue
                text = (text[length:] if phrase == head else text[:-length]).strip()
                phrase_intent = self._phrases[phrase]
                if phrase_intent and length >= longest:
                    intent, longest = phrase_intent, length
                peeled = True
                break
        return text, intent
