"""Rules across files: one function per rule, each yielding `Problem(file, line, message)`."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from string import Formatter
from xml.sax.saxutils import escape

from rapidfuzz.distance import Levenshtein

from .model import FaqEntry, KnowledgeBase, MenuButton, Question, Source
from .problems import Problem
from .yamlfile import line_of

#: One passive WeChat text reply fails as a whole above ~2048 bytes; keep a margin.
MAX_REPLY_BYTES = 2000
_PARTICLES = re.compile(r"[\W_吗呢啊呀吧嘛么哈哦噢]+")
#: Questions this long (compared form) that differ in one character are near duplicates; shorter ones
#: ("怎么解绑" / "怎么绑定") can differ in one character and mean something else.
NEAR_DUPLICATE_LENGTH = 6


def reply_bytes(text: str) -> int:
    """UTF-8 size of a text in a reply, escaped as entities or as CDATA (with ]]> split), whichever is larger."""
    as_entities = escape(text)
    as_cdata = text.replace("]]>", "]]]]><![CDATA[>")
    return max(len(as_entities.encode("utf-8")), len(as_cdata.encode("utf-8")))


def comparable(text: str) -> str:
    """The form two questions are compared in: half-width, lowercase, no punctuation or particles."""
    return _PARTICLES.sub("", unicodedata.normalize("NFKC", text).lower())


def duplicate_ids(kb: KnowledgeBase) -> Iterator[Problem]:
    seen: dict[str, FaqEntry] = {}
    for faq in kb.faqs:
        if faq.id in seen:
            first = seen[faq.id].source
            yield Problem(faq.source.file, faq.source.line, f"id '{faq.id}' is already used at {first}")
        else:
            seen[faq.id] = faq


def near_duplicate_questions(kb: KnowledgeBase) -> Iterator[Problem]:
    """Two entries sharing (almost) the same question make the matcher guess between them; within one entry
    only the very same question is a mistake.

    Linear in the number of questions: each is filed under its form and, when long enough to count a one-
    character difference, each form with one character deleted; two forms one edit apart share such a key.
    A first pass finds the keys two entries share, so only those are filed and compared (most keys belong to
    one entry: filing every one cost 4 s at 1,000 entries).
    """
    forms = [(faq, question, comparable(question.text)) for faq in kb.faqs for question in faq.questions]
    keys_of = [_keys(form) for _, _, form in forms]
    entry_keys: dict[str, set[str]] = defaultdict(set)
    for (faq, _, _), keys in zip(forms, keys_of, strict=True):
        entry_keys[faq.id] |= keys
    seen: set[str] = set()
    shared: set[str] = set()  # keys of two entries or more
    for keys in entry_keys.values():
        shared |= keys & seen
        seen |= keys
    same_form: dict[tuple[str, str], tuple[int, str, Question]] = {}  # (entry, form) → its first question
    filed: dict[str, dict[str, list[tuple[int, str, Question]]]] = defaultdict(dict)  # key → entry → questions
    for order, (faq, question, form) in enumerate(forms):
        keys = keys_of[order] & shared
        found = [same_form[(faq.id, form)]] if (faq.id, form) in same_form else []
        for key in keys:
            for entry, questions in filed[key].items():
                if entry != faq.id:
                    found += [(o, entry, q) for o, other_form, q in questions if _nearly_same(form, other_form)][:1]
        if found:
            _, entry, other = min(found, key=lambda filing: filing[0])
            where = "this entry" if entry == faq.id else entry
            yield Problem(
                question.source.file,
                question.source.line,
                f'question "{question.text}" is (nearly) the same as "{other.text}" in {where} ({other.source})',
            )
        same_form.setdefault((faq.id, form), (order, faq.id, question))
        for key in keys:
            filed[key].setdefault(faq.id, []).append((order, form, question))


def _keys(form: str) -> set[str]:
    """The form, and the form with each character deleted when it is long enough for that to count."""
    if len(form) < NEAR_DUPLICATE_LENGTH:
        return {form}
    return {form} | {form[:i] + form[i + 1 :] for i in range(len(form))}


def _nearly_same(a: str, b: str) -> bool:
    if a == b:
        return True
    return min(len(a), len(b)) >= NEAR_DUPLICATE_LENGTH and Levenshtein.distance(a, b, score_cutoff=1) <= 1


def unknown_related(kb: KnowledgeBase) -> Iterator[Problem]:
    for faq in kb.faqs:
        for related in faq.related:
            if kb.faq(related) is None:
                yield Problem(
                    faq.source.file, faq.source.line, f"entry '{faq.id}': related id '{related}' does not exist"
                )
            elif related == faq.id:
                yield Problem(faq.source.file, faq.source.line, f"entry '{faq.id}' lists itself as related")


MENU_LISTS = ("popular", "help")


def unknown_menu_targets(kb: KnowledgeBase, label: str) -> Iterator[Problem]:
    for faq_id in kb.popular:
        if kb.faq(faq_id) is None:
            yield Problem(label, line_of(faq_id), f"popular question '{faq_id}' is not an FAQ id")
    for button in menu_buttons(kb):
        if button.answer and button.answer not in MENU_LISTS and kb.faq(button.answer) is None:
            yield Problem(
                button.source.file,
                button.source.line,
                f"menu button '{button.key}' points to '{button.answer}', which is not an FAQ id, popular or help",
            )


def menu_buttons(kb: KnowledgeBase) -> Iterator[MenuButton]:
    """Every button of the menu, each top-level one followed by its sub-buttons."""
    for top in kb.buttons:
        yield top
        yield from top.sub_buttons


#: WeChat's custom-menu limits (menu/create refuses more): buttons, and bytes per field.
MENU_TOP_BUTTONS, MENU_SUB_BUTTONS = 3, 5
MENU_NAME_BYTES = {True: 16, False: 60}  # top-level, sub-button
#: What WeChat shows of a name before cutting it with "…": 4 Chinese characters on top, 8 below (2 letters = 1).
MENU_NAME_WIDTH = {True: 4, False: 8}
MENU_KEY_BYTES, MENU_URL_BYTES = 128, 1024


def menu_limits(kb: KnowledgeBase) -> Iterator[Problem]:
    """The menu fits WeChat's limits, so `wechat menu push` is not refused and no name is cut short."""
    if len(kb.buttons) > MENU_TOP_BUTTONS:
        extra = kb.buttons[MENU_TOP_BUTTONS]
        yield Problem(
            extra.source.file,
            extra.source.line,
            f"the menu has {len(kb.buttons)} top-level buttons; WeChat allows at most {MENU_TOP_BUTTONS}",
        )
    for top in kb.buttons:
        if len(top.sub_buttons) > MENU_SUB_BUTTONS:
            extra = top.sub_buttons[MENU_SUB_BUTTONS]
            yield Problem(
                extra.source.file,
                extra.source.line,
                f"menu button '{top.name}' has {len(top.sub_buttons)} sub-buttons; WeChat allows at most "
                f"{MENU_SUB_BUTTONS}",
            )
        yield from _button_limits(top, top=True)
        for sub in top.sub_buttons:
            yield from _button_limits(sub, top=False)


def _button_limits(button: MenuButton, top: bool) -> Iterator[Problem]:
    where, what = button.source, f"menu button '{button.name}'"
    size, most = len(button.name.encode("utf-8")), MENU_NAME_BYTES[top]
    level = "top-level" if top else "sub-button"
    if size > most:
        yield Problem(where.file, where.line, f"{what}: the name is {size} bytes; a {level} name may have {most}")
    elif name_width(button.name) > MENU_NAME_WIDTH[top]:
        yield Problem(
            where.file,
            where.line,
            f"{what}: WeChat shows {MENU_NAME_WIDTH[top]} Chinese characters of a {level} name and cuts the rest",
        )
    if button.key and len(button.key.encode("utf-8")) > MENU_KEY_BYTES:
        yield Problem(where.file, where.line, f"{what}: the key is longer than {MENU_KEY_BYTES} bytes")
    if button.url is not None:
        if not button.url.startswith(("https://", "http://", "/")):
            yield Problem(where.file, where.line, f"{what}: url must start with https:// (or / for a page of SITE_URL)")
        elif len(button.url.encode("utf-8")) > MENU_URL_BYTES:
            yield Problem(where.file, where.line, f"{what}: the url is longer than {MENU_URL_BYTES} bytes")


def name_width(name: str) -> float:
    """How much room a name takes in the menu, in Chinese characters (a letter or digit is half of one)."""
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in name)


def answers_too_long(kb: KnowledgeBase) -> Iterator[Problem]:
    for faq in kb.faqs:
        size = reply_bytes(faq.answer)
        if size > MAX_REPLY_BYTES:
            yield Problem(
                faq.source.file,
                faq.source.line,
                f"entry '{faq.id}': answer is {size} bytes; one WeChat reply carries at most {MAX_REPLY_BYTES} "
                f"bytes (about {MAX_REPLY_BYTES // 3} Chinese characters)",
            )


def unknown_regions(kb: KnowledgeBase) -> Iterator[Problem]:
    known = set()
    for province in kb.lexicon.provinces:
        known.update((province.name, *province.aliases, *province.cities))
    for faq in kb.faqs:
        for place in faq.regions:
            if place not in known:
                yield Problem(
                    faq.source.file,
                    faq.source.line,
                    f"entry '{faq.id}': region '{place}' is not in regions.yaml (use a province short name or a city)",
                )


def missing_topics(kb: KnowledgeBase, topics: list[tuple[str, int]], label: str) -> Iterator[Problem]:
    for topic_id, line in topics:
        if kb.faq(topic_id) is None:
            yield Problem(label, line, f"topic '{topic_id}' has no FAQ entry")


def template_problems(kb: KnowledgeBase, fields: dict[str, frozenset[str]], label: str) -> Iterator[Problem]:
    """Every template the bot needs is there, and uses only the {names} the bot fills in."""
    for name, allowed in fields.items():
        text = kb.templates.get(name)
        if text is None:
            yield Problem(label, 1, f"reply template '{name}' is missing")
            continue
        line = line_of(text)
        try:
            used = {field for _, field, _, _ in Formatter().parse(text) if field is not None}
        except ValueError as exc:
            yield Problem(label, line, f"template '{name}': {exc} (write {{{{ and }}}} for literal braces)")
            continue
        for field in sorted(used - allowed):
            known = ", ".join(f"{{{f}}}" for f in sorted(allowed)) or "none"
            yield Problem(
                label, line, f"template '{name}' uses {{{field}}}, which the bot does not fill (known: {known})"
            )


def unknown_relation_entries(kb: KnowledgeBase) -> Iterator[Problem]:
    for faq_id, source in kb.relations.entry_sources.items():
        if kb.faq(faq_id) is None:
            yield Problem(source.file, source.line, f"entries: '{faq_id}' is not an FAQ id")


def relatives_compared_as_others(kb: KnowledgeBase) -> Iterator[Problem]:
    """A relative compared (synonyms.yaml) as a word of a class with other verdicts gets that class's answers."""
    class_of = kb.relations.class_of
    for word in kb.relations.words:
        compared = kb.lexicon.synonyms.get(word.word, word.word)
        own, other = class_of.get(word.word), class_of.get(compared)
        if own and other and own.verdicts != other.verdicts:
            yield Problem(
                word.source.file,
                word.source.line,
                f"'{word.word}' ({own.name}) is compared as '{compared}' ({other.name}) in synonyms.yaml, so its "
                f"questions would be answered like questions about {other.name}; list it under another word there",
            )


def unknown_citations(kb: KnowledgeBase) -> Iterator[Problem]:
    """An entry's `sources` must name entries of sources.yaml, so every answer can be traced to a document."""
    for faq in kb.faqs:
        for cited, where in _citations(faq):
            if cited not in kb.references_by_id:
                yield Problem(where.file, where.line, f"entry '{faq.id}': source '{cited}' is not in sources.yaml")


def _citations(faq: FaqEntry) -> Iterator[tuple[str, Source]]:
    """Each source id an entry cites, with the line it is cited at (the entry's own line when not known)."""
    return zip(faq.sources, faq.cited_at or [faq.source] * len(faq.sources), strict=True)


def stale_reviews(kb: KnowledgeBase, today: dt.date, max_age_days: int) -> Iterator[Problem]:
    """Entries whose facts were last checked more than `max_age_days` ago (a warning: they still serve)."""
    for faq in kb.faqs:
        try:
            age = (today - dt.date.fromisoformat(faq.reviewed)).days
        except ValueError:
            continue  # the loader already reports a reviewed date that is not a date
        if age > max_age_days:
            yield Problem(
                faq.source.file,
                faq.source.line,
                f"entry '{faq.id}' was last reviewed {faq.reviewed}, {age} days ago: check its facts and sources "
                f"(every {max_age_days} days)",
            )


def superseded_citations(kb: KnowledgeBase) -> Iterator[Problem]:
    """Entries citing a source marked `superseded: true` (a warning: the answer may describe old rules)."""
    for faq in kb.faqs:
        for cited, where in _citations(faq):
            reference = kb.references_by_id.get(cited)
            if reference is not None and reference.superseded:
                yield Problem(
                    where.file,
                    where.line,
                    f"entry '{faq.id}' cites '{cited}', which sources.yaml marks superseded: check the answer",
                )


RULES = (
    unknown_citations,
    duplicate_ids,
    near_duplicate_questions,
    unknown_related,
    answers_too_long,
    unknown_regions,
    unknown_relation_entries,
    relatives_compared_as_others,
    menu_limits,
)
