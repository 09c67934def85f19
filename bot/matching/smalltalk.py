"""Greetings, thanks, help: recognised before any FAQ scoring so "谢谢" is never matched to an entry."""

from __future__ import annotations

from knowledge import SmalltalkIntent

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
        self._phrases = sorted(phrases.items(), key=lambda item: len(item[0]), reverse=True)

    def peel(self, normalized: str) -> tuple[str, str | None]:
        """(what is left, the intent of the longest phrase peeled off)."""
        text = normalized.strip()
        intent, longest = None, 0
        peeled = True
        while text and peeled:
            peeled = False
            for phrase, phrase_intent in self._phrases:
                if text.startswith(phrase) or text.endswith(phrase):
                    text = text[len(phrase) :] if text.startswith(phrase) else text[: -len(phrase)]
                    text = text.strip()
                    if phrase_intent and len(phrase) >= longest:
                        intent, longest = phrase_intent, len(phrase)
                    peeled = True
                    break
        return text, intent
