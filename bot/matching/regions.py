"""Find the place a user names in passing and map it to its province-level short name."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge import Province

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


@dataclass(frozen=True)
class RegionMention:
    """A place found in the text: the province it belongs to and the name as written."""

    province: str
    place: str
    start: int
    end: int


class RegionFinder:
    """Longest-name-first search over the gazetteer; a city is reported with its province."""

    def __init__(self, provinces: tuple[Province, ...], domain_words: frozenset[str] = frozenset()):
        self._place_to_province: dict[str, str] = {}
        self._canonical_place: dict[str, str] = {}
        for province in provinces:
            for name in (province.name, *province.aliases):
                self._add(name, province.name, province.name)
            for city in province.cities:
                self._add(city, city, province.name)
        names = sorted(self._canonical_place, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, names))) if names else None
        # "共济南京" holds 济南 and "共济宁波" holds 济宁: a place may not start inside a domain word.
        words = sorted((w for w in domain_words if len(w) >= 2), key=len, reverse=True)
        self._domain = re.compile("|".join(map(re.escape, words))) if words else None

    def _add(self, name: str, place: str, province: str) -> None:
        self._canonical_place.setdefault(name, place)
        self._place_to_province.setdefault(place, province)
        base = _strip_suffix(name)
        if len(base) >= 2 and base != name:
            self._canonical_place.setdefault(base, place)

    def find_all(self, text: str) -> list[RegionMention]:
        if self._pattern is None:
            return []
        inside_word = self._inside_domain_words(text)
        mentions, position = [], 0
        while position < len(text):
            found = self._pattern.search(text, position)
            if found is None:
                break
            if found.start() in inside_word:
                position = found.start() + 1
                continue
            place = self._canonical_place[found.group()]
            end = found.end() + (text[found.end() : found.end() + 1] in _TRAILING_SUFFIXES)
            mentions.append(RegionMention(self._place_to_province[place], place, found.start(), end))
            position = end
        return mentions

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


def _strip_suffix(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name
