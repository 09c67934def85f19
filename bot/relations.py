"""Find the relatives a question names (relations.yaml), so the reply can first answer for that relative."""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge import Relations

from .matching.normalize import normalize

#: Words a relation may start with that say whose relative it is, not which: 我妈 is 妈, 我姐夫 is 姐夫.
_PRONOUNS = ("我", "咱", "俺")


@dataclass(frozen=True)
class Mention:
    """A relative named in the question, as the user wrote it, with its class's verdict per product."""

    text: str
    class_name: str
    verdicts: dict[str, str]


def find_relations(question: str, relations: Relations) -> list[Mention]:
    """The relatives named, in order; neighbours of one class stay one mention (公公婆婆), each named once."""
    found: dict[str, Mention] = {}
    for words, first_word in _mentions(question, relations):
        relation_class = relations.class_of[first_word]
        name = _as_said_to_the_user(words)
        found.setdefault(name, Mention(name, relation_class.name, relation_class.verdicts))
    return list(found.values())


def relation_words(question: str, relations: Relations) -> list[str]:
    """The relation words as the user wrote them (我哥, 公公婆婆), one per mention: all a later turn needs to
    answer for the same relatives (`find_relations` on them finds the same mentions)."""
    return [words for words, _ in _mentions(question, relations)]


def _mentions(question: str, relations: Relations) -> list[tuple[str, str]]:
    """Each mention's words as written, with its first relation word (neighbours share their verdicts)."""
    text = normalize(question)
    mentions: list[tuple[int, int, str]] = []
    for start, end, word in _spans(text, relations):
        if mentions and mentions[-1][1] == start and _same_verdicts(relations, mentions[-1][2], word):
            mentions[-1] = (mentions[-1][0], end, mentions[-1][2])
        else:
            mentions.append((start, end, word))
    return [(text[start:end], word) for start, end, word in mentions]


def _spans(text: str, relations: Relations) -> list[tuple[int, int, str]]:
    """Non-overlapping occurrences, longest relation word first (外孙女 over 孙女), a pronoun not counting."""
    longest = relations.longest_word
    candidates = [
        (start, start + size, text[start : start + size])
        for start in range(len(text))
        for size in range(1, longest + 1)
        if text[start : start + size] in relations.class_of
    ]
    candidates.sort(key=lambda span: (-len(span[2].lstrip("".join(_PRONOUNS))), span[0]))
    taken: list[tuple[int, int, str]] = []
    for span in candidates:
        if all(span[1] <= other[0] or other[1] <= span[0] for other in taken):
            taken.append(span)
    return sorted(taken)


def _same_verdicts(relations: Relations, first: str, second: str) -> bool:
    return relations.class_of[first].verdicts == relations.class_of[second].verdicts


def _as_said_to_the_user(text: str) -> str:
    """我妈 → 您妈: the bot names the user's relative the way it would say it to them."""
    for pronoun in _PRONOUNS:
        text = text.replace(pronoun, "您")
    return text
