"""Find the place a user names in passing and map it to its province-level short name."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from bot.knowledge import Province

from .pinyin import loose, syllables

# Suffixes users add to place names; "深圳市" and "深圳" are the same place.
_SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "省",
    "市",
    "地区",
    "盟",
    "州",
    "县",
    "区",
)

# A one-character suffix right after a name belongs to it ("深圳市"); cut it out with the name.
_TRAILING_SUFFIXES = frozenset("省市")
# A misspelt place is believed only right after a word that says a place follows ("我在深证", "回杭洲") or
# right before a suffix ("成度市"): unanchored, 卡上还剩 sounds like 上海 and 以后马上 holds 侯马's sound.
_BEFORE_A_PLACE = frozenset("在到去回来住")
_AFTER_A_PLACE = frozenset("省市县区")
#: Longest place name looked for misspelt, in characters.
MAX_SOUND_ALIKE = 4


@dataclass(frozen=True)
class RegionMention:
    """A place found in the text: the province it belongs to and the name as written."""

    province: str
    place: str
    start: int
    end: int


class RegionFinder:
    """Longest-name-first search over the gazetteer; a city is reported with its province."""

    def __init__(
        self,
        provinces: tuple[Province, ...],
        domain_words: frozenset[str] = frozenset(),
        everyday_word: Callable[[str], bool] = lambda word: False,
    ):
        """`everyday_word`: whether a word is in everyday use, so one is never read as a misspelt place (进门 is
        not 荆门)."""
        self._place_to_province: dict[str, str] = {}
        self._canonical_place: dict[str, str] = {}
        self._after_a_cue_only: set[str] = set()
        for province in provinces:
            for name in (province.name, *province.aliases):
                self._add(name, province.name, province.name, _strip_suffix(name))
            for city in province.cities:
                self._add(city, city, province.name)
                # regions.yaml writes 大同市 and 长寿区 because 大同 and 长寿 alone are everyday words (大同小异):
                # alone, they count only where a place is said to follow (我在大同).
                bare = _strip_suffix(city)
                if len(bare) >= 2 and bare != city and bare not in self._canonical_place:
                    self._canonical_place[bare] = city
                    self._after_a_cue_only.add(bare)
        names = sorted(self._canonical_place, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, names))) if names else None
        # "共济南京" holds 济南 and "共济宁波" holds 济宁: a place may not start inside a domain word.
        words = sorted((w for w in domain_words if len(w) >= 2), key=len, reverse=True)
        self._domain = re.compile("|".join(map(re.escape, words))) if words else None
        self._everyday_word = everyday_word
        # Names of two to four Chinese characters, by each character and its place in the name, with their sound.
        self._names_with: dict[tuple[int, str], list[str]] = defaultdict(list)
        self._sound: dict[str, tuple[str, ...]] = {}
        for name in names:
            if 2 <= len(name) <= MAX_SOUND_ALIKE and all("\u4e00" <= ch <= "\u9fff" for ch in name):
                self._sound[name] = loose(syllables(name))
                for position, character in enumerate(name):
                    self._names_with[(position, character)].append(name)

    def _add(self, name: str, place: str, province: str, short_name: str | None = None) -> None:
        self._canonical_place.setdefault(name, place)
        self._place_to_province.setdefault(place, province)
        if short_name and len(short_name) >= 2 and short_name != name:  # 广西壮族自治区 is also 广西
            self._canonical_place.setdefault(short_name, place)

    def find_all(self, text: str) -> list[RegionMention]:
        if self._pattern is None:
            return []
        inside_word = self._inside_domain_words(text)
        mentions, position = [], 0
        while position < len(text):
            found = self._pattern.search(text, position)
            if found is None:
                break
            if found.start() in inside_word or (
                found.group() in self._after_a_cue_only and not _said_to_be_a_place(text, found.start())
            ):
                position = found.start() + 1
                continue
            place = self._canonical_place[found.group()]
            end = found.end() + (text[found.end() : found.end() + 1] in _TRAILING_SUFFIXES)
            mentions.append(RegionMention(self._place_to_province[place], place, found.start(), end))
            position = end
        return mentions or self._misspelt(text, inside_word)

    def _misspelt(self, text: str, inside_word: set[int]) -> list[RegionMention]:
        """A place typed or heard with one character wrong that sounds the same (深证, 杭洲, 成度): pinyin
        keyboards and voice input make these. Looked for only when no place is written right, never where the
        misspelling is an everyday word, starts inside a domain word or makes a word with the character beside it
        (部分城市 holds 丰城's sound); the first one found."""
        for start, name in self._sound_alike_candidates(text):
            end = start + len(name)
            window = text[start:end]
            wrong = next(i for i, (typed, written) in enumerate(zip(window, name, strict=True)) if typed != written)
            if (
                loose(syllables(window[wrong]))[0] == self._sound[name][wrong]
                and start not in inside_word
                and not self._everyday_word(window)
                and not self._everyday_word(text[start - 1 : start + 1] if start else "")
                and not self._everyday_word(text[end - 1 : end + 1] if end < len(text) else "")
            ):
                place = self._canonical_place[name]
                end += text[end : end + 1] in _TRAILING_SUFFIXES
                return [RegionMention(self._place_to_province[place], place, start, end)]
        return []

    def _sound_alike_candidates(self, text: str) -> list[tuple[int, str]]:
        """(start, name) for every name that the text, right after a word that says a place follows or right
        before a suffix, spells with one character different: leftmost first, longer names first."""
        after_a_word = Counter(
            (start, name)
            for start in [i + 1 for i, character in enumerate(text) if character in _BEFORE_A_PLACE]
            for position in range(min(MAX_SOUND_ALIKE, len(text) - start))
            for name in self._names_with.get((position, text[start + position]), ())
            if start + len(name) <= len(text)
        )
        before_a_suffix = Counter(
            (end - length, name)
            for end in [i for i, character in enumerate(text) if character in _AFTER_A_PLACE]
            for length in range(2, min(MAX_SOUND_ALIKE, end) + 1)
            for position in range(length)
            for name in self._names_with.get((position, text[end - length + position]), ())
            if len(name) == length
        )
        found = {
            candidate
            for counted in (after_a_word, before_a_suffix)
            for candidate, same in counted.items()
            if same == len(candidate[1]) - 1
        }
        return sorted(found, key=lambda candidate: (candidate[0], -len(candidate[1]), candidate[1]))

    def _inside_domain_words(self, text: str) -> set[int]:
        """Positions that are not the first character of a domain word found in the text."""
        if self._domain is None:
            return set()
        return {i for found in self._domain.finditer(text) for i in range(found.start() + 1, found.end())}

    def places(self, mentions: list[RegionMention]) -> list[RegionMention]:
        """One mention per place, in order: a province named with one of its own cities ("广东深圳",
        "河南省洛阳市") is that city, not a second place."""
        cities = {m.province for m in mentions if m.place != m.province}
        distinct: dict[str, RegionMention] = {}
        for mention in mentions:
            if mention.place == mention.province and mention.province in cities:
                continue
            distinct.setdefault(mention.place, mention)
        return list(distinct.values())

    def find(self, text: str) -> RegionMention | None:
        """The first place named, or None."""
        mentions = self.find_all(text)
        return mentions[0] if mentions else None

    def province_of(self, place: str) -> str | None:
        """Province short name for a province, city or alias the gazetteer knows."""
        canonical = self._canonical_place.get(place) or self._canonical_place.get(_strip_suffix(place))
        return self._place_to_province.get(canonical) if canonical else None

    def remove(self, text: str, mentions: list[RegionMention]) -> str:
        """The text with the place names cut out: they say where, not what, the user asks."""
        for mention in reversed(mentions):
            text = text[: mention.start] + " " + text[mention.end :]
        return " ".join(text.split())


def _said_to_be_a_place(text: str, start: int) -> bool:
    """Whether the word before `start` says a place follows (在, 到, 去, 回, 来, 住)."""
    return start > 0 and text[start - 1] in _BEFORE_A_PLACE


def _strip_suffix(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name
