"""Operator files → model objects, with a `file:line` problem for every schema error."""

from __future__ import annotations

import re
from pathlib import Path

from .model import (
    OFFICIAL_LEVELS,
    RELATION_PRODUCTS,
    RELATION_VERDICTS,
    Commands,
    FaqEntry,
    Lexicon,
    MenuButton,
    OutOfScopeTopic,
    Province,
    Question,
    Reference,
    RelationClass,
    Relations,
    RelationWord,
    SmalltalkIntent,
    Source,
)
from .problems import Problem
from .yamlfile import LineDict, LineStr, is_iso_date, line_of, read_yaml

MIN_ALTERNATES = 6
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

FAQ_FIELDS = {
    "id": True,
    "question": True,
    "alternates": True,
    "answer": True,
    "sources": True,
    "notes": False,
    "reviewed": True,
    "related": False,
    "regions": False,
    "category": False,
}
OUT_OF_SCOPE_FIELDS = {"id": True, "name": True, "examples": True, "reply": False}
SMALLTALK_FIELDS = {"id": True, "phrases": True, "reply": True}
PROVINCE_FIELDS = {"province": True, "names": False, "cities": False}


class FileReader:
    """Checks one parsed file against its schema, collecting problems instead of stopping."""

    def __init__(self, label: str):
        self.label = label
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.label, line, message))

    def source(self, value: object, default: int = 1) -> Source:
        return Source(self.label, line_of(value, default))

    def mapping(self, value: object, line: int, what: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.problem(line_of(value, line), f"{what} must be a set of 'name: value' fields")
        return None

    def items(self, value: object, line: int, what: str) -> list:
        if isinstance(value, list):
            return value
        self.problem(line_of(value, line), f"{what} must be a list (lines starting with '- ')")
        return []

    def fields(self, entry: LineDict, allowed: dict[str, bool], what: str) -> bool:
        """Report missing required and unknown fields; False if a required one is missing."""
        complete = True
        for name, required in allowed.items():
            if required and entry.get(name) in (None, "", []):
                self.problem(entry.line, f"{what} is missing '{name}'")
                complete = False
        for name in entry:
            if name not in allowed:
                known = ", ".join(allowed)
                self.problem(entry.line, f"{what} has unknown field '{name}' (known fields: {known})")
        return complete

    def text(self, entry: LineDict, name: str, what: str) -> str:
        value = entry.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(line_of(value, entry.line), f"{what}: '{name}' must be text")
            return ""
        return value.strip()

    def texts(self, entry: LineDict, name: str, what: str) -> list[str]:
        """A list of non-empty strings, keeping each one's line."""
        value = entry.get(name)
        if value is None:
            return []
        result = []
        for item in self.items(value, entry.line, f"{what}: '{name}'"):
            if isinstance(item, str) and item.strip():
                result.append(item)
            elif isinstance(item, int | float) and not isinstance(item, bool):
                self.problem(line_of(item, entry.line), f"{what}: '{name}' item {item} is a number; put it in quotes")
            else:
                self.problem(line_of(item, entry.line), f"{what}: every item of '{name}' must be non-empty text")
        return result

    def question(self, text: str) -> Question:
        return Question(text.strip(), self.source(text))


def read_faq_file(path: Path, label: str) -> tuple[list[FaqEntry], list[Problem]]:
    """One category file: `category:` and a list of `faqs:`."""
    data, problems = read_yaml(path, label)
    if data is None and problems:
        return [], problems
    reader = FileReader(label)
    reader.problems.extend(problems)
    top = reader.mapping(data, 1, "the file")
    if top is None:
        return [], reader.problems
    category = reader.text(top, "category", "the file")
    entries = []
    for raw in reader.items(top.get("faqs"), top.line, "'faqs'"):
        entry = reader.mapping(raw, top.line, "an FAQ entry")
        if entry is not None:
            faq = _read_faq(reader, entry, category)
            if faq is not None:
                entries.append(faq)
    return entries, reader.problems


def _read_faq(reader: FileReader, entry: LineDict, file_category: str) -> FaqEntry | None:
    faq_id = entry.get("id")
    what = f"entry '{faq_id}'" if isinstance(faq_id, str) else "an entry"
    complete = reader.fields(entry, FAQ_FIELDS, what)
    if isinstance(faq_id, str) and not ID_PATTERN.match(faq_id):
        reader.problem(line_of(faq_id), f"{what}: id must be lowercase letters, digits and dashes")
    category = reader.text(entry, "category", what) or file_category
    if not category:
        reader.problem(entry.line, f"{what} has no category (set 'category:' at the top of the file)")
    alternates = reader.texts(entry, "alternates", what)
    if "alternates" in entry and len(alternates) < MIN_ALTERNATES:
        reader.problem(
            line_of(entry.get("alternates"), entry.line),
            f"{what} has {len(alternates)} alternates; at least {MIN_ALTERNATES} are needed",
        )
    reviewed = reader.text(entry, "reviewed", what)
    if reviewed and not is_iso_date(reviewed):
        reader.problem(line_of(entry.get("reviewed"), entry.line), f"{what}: reviewed must be a date like 2026-11-26")
    regions = _read_regions(reader, entry, what)
    question = reader.text(entry, "question", what)
    answer = reader.text(entry, "answer", what)
    cited = reader.texts(entry, "sources", what)
    if not complete or not question or not answer:
        return None
    return FaqEntry(
        id=str(faq_id),
        category=category,
        question=reader.question(entry["question"]),
        alternates=tuple(reader.question(a) for a in alternates),
        answer=answer,
        sources=tuple(s.strip() for s in cited),
        reviewed=reviewed,
        related=tuple(s.strip() for s in reader.texts(entry, "related", what)),
        regions=regions,
        source=reader.source(entry),
        notes=tuple(n.strip() for n in reader.texts(entry, "notes", what)),
        cited_at=tuple(reader.source(s, entry.line) for s in cited),
    )


SOURCE_FIELDS = {
    "id": True,
    "title": True,
    "publisher": True,
    "official": True,
    "date": False,
    "address": False,
    "superseded": False,
    "note": False,
}
SOURCE_ID_PATTERN = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")
SOURCE_DATE_PATTERN = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def read_sources(path: Path, label: str) -> tuple[list[Reference], list[Problem]]:
    """sources.yaml: `sources:`, a list of the documents entries cite by id."""
    data, problems = read_yaml(path, label)
    if data is None and problems:
        return [], problems
    reader = FileReader(label)
    reader.problems.extend(problems)
    top = reader.mapping(data, 1, "the sources file")
    if top is None:
        return [], reader.problems
    references, seen = [], {}
    for raw in reader.items(top.get("sources"), top.line, "'sources'"):
        row = reader.mapping(raw, top.line, "a source")
        if row is None:
            continue
        what = f"source '{row.get('id')}'"
        if not reader.fields(row, SOURCE_FIELDS, what):
            continue
        reference = _read_reference(reader, row, what)
        if reference.id in seen:
            reader.problem(row.line, f"source id '{reference.id}' is already used at line {seen[reference.id]}")
        seen.setdefault(reference.id, row.line)
        references.append(reference)
    return references, reader.problems


def _read_reference(reader: FileReader, row: LineDict, what: str) -> Reference:
    source_id = str(row["id"]).strip()
    if not SOURCE_ID_PATTERN.match(source_id):
        reader.problem(line_of(row["id"], row.line), f"{what}: id must be letters, digits and dashes")
    official = reader.text(row, "official", what)
    if official not in OFFICIAL_LEVELS:
        reader.problem(
            line_of(row["official"], row.line), f"{what}: official must be one of {', '.join(OFFICIAL_LEVELS)}"
        )
    date = str(row.get("date") or "").strip()
    if date and not (SOURCE_DATE_PATTERN.match(date) and (len(date) < 10 or is_iso_date(date))):
        reader.problem(line_of(row.get("date"), row.line), f'{what}: date must look like 2024-11-26, 2024-11 or "2024"')
    superseded = row.get("superseded", False)
    if not isinstance(superseded, bool):
        reader.problem(line_of(superseded, row.line), f"{what}: superseded must be true or false")
    return Reference(
        id=source_id,
        title=reader.text(row, "title", what),
        publisher=reader.text(row, "publisher", what),
        official=official,
        date=date,
        address=reader.text(row, "address", what),
        superseded=superseded is True,
        note=reader.text(row, "note", what),
        source=reader.source(row),
    )


def _read_regions(reader: FileReader, entry: LineDict, what: str) -> dict[str, str]:
    raw = entry.get("regions")
    if raw is None:
        return {}
    regions = reader.mapping(raw, entry.line, f"{what}: 'regions'")
    if regions is None:
        return {}
    notes = {}
    for place, note in regions.items():
        if isinstance(note, str) and note.strip():
            notes[str(place)] = note.strip()
        else:
            reader.problem(regions.line, f"{what}: the note for region '{place}' must be non-empty text")
    return notes


def read_out_of_scope(path: Path, label: str) -> tuple[list[OutOfScopeTopic], list[Problem]]:
    """Topics the bot must refuse, each with example questions and an optional referral reply."""
    reader, rows = _complete_rows(path, label, OUT_OF_SCOPE_FIELDS, "out-of-scope topic", "id")
    topics = [
        OutOfScopeTopic(
            id=str(row["id"]),
            name=reader.text(row, "name", what),
            examples=tuple(reader.question(e) for e in reader.texts(row, "examples", what)),
            reply=reader.text(row, "reply", what) or None,
            source=reader.source(row),
        )
        for row, what in rows
    ]
    return topics, reader.problems


def read_smalltalk(path: Path, label: str) -> tuple[list[SmalltalkIntent], list[Problem]]:
    """Greetings, thanks, help and the like."""
    reader, rows = _complete_rows(path, label, SMALLTALK_FIELDS, "smalltalk intent", "id")
    intents = [
        SmalltalkIntent(
            id=str(row["id"]),
            phrases=tuple(p.strip() for p in reader.texts(row, "phrases", what)),
            reply=reader.text(row, "reply", what),
            source=reader.source(row),
        )
        for row, what in rows
    ]
    return intents, reader.problems


def read_regions(path: Path, label: str) -> tuple[tuple[list[Province], str | None], list[Problem]]:
    """The gazetteer: each province-level region with its other names and cities; the word two places stand for."""
    data, problems = read_yaml(path, label)
    reader = FileReader(label)
    reader.problems.extend(problems)
    top = reader.mapping(data, 1, "the region file") if data is not None else None
    if top is None:
        return ([], None), reader.problems
    reader.fields(top, {"provinces": True, "two_places": False}, "the region file")
    rows = []
    for item in reader.items(top.get("provinces", []), top.line, "'provinces'"):
        row = reader.mapping(item, top.line, "each province")
        if row is not None and reader.fields(row, PROVINCE_FIELDS, f"region '{row.get('province')}'"):
            rows.append((row, f"region '{row.get('province')}'"))
    provinces = [
        Province(
            name=reader.text(row, "province", what),
            aliases=tuple(n.strip() for n in reader.texts(row, "names", what)),
            cities=tuple(c.strip() for c in reader.texts(row, "cities", what)),
        )
        for row, what in rows
    ]
    return (provinces, reader.text(top, "two_places", "the region file") or None), reader.problems


def read_synonyms(path: Path, label: str) -> tuple[dict[str, str], list[Problem]]:
    """`canonical: [variant, ...]` → {variant: canonical}; a variant may have one canonical only."""
    data, problems = read_yaml(path, label)
    reader = FileReader(label)
    reader.problems.extend(problems)
    if data is None:
        return {}, reader.problems
    table = reader.mapping(data, 1, "the synonym table")
    synonyms: dict[str, str] = {}
    for canonical, variants in (table or {}).items():
        for variant in reader.items(variants, table.line, f"synonyms of '{canonical}'"):
            if not isinstance(variant, str) or not variant.strip():
                reader.problem(line_of(variant, table.line), f"synonyms of '{canonical}': items must be text")
                continue
            key = variant.strip().lower()
            if key in synonyms and synonyms[key] != canonical:
                reader.problem(
                    line_of(variant), f"'{variant}' is listed under both '{synonyms[key]}' and '{canonical}'"
                )
                continue
            synonyms[key] = str(canonical)
    return synonyms, reader.problems


RELATION_FIELDS = {"classes": True, "words": True, "entries": True}
_PRODUCT_NAMES = "、".join(RELATION_PRODUCTS)


def read_relations(path: Path, label: str) -> tuple[Relations, list[Problem]]:
    """Classes of relatives with a verdict per product, each relation word in one class, the entries they open."""
    data, problems = read_yaml(path, label)
    reader = FileReader(label)
    reader.problems.extend(problems)
    top = reader.mapping(data, 1, "the relation file") if data is not None else None
    if top is None:
        return Relations(), reader.problems
    reader.fields(top, RELATION_FIELDS, "the relation file")
    classes = _read_relation_classes(reader, top)
    words = _read_relation_words(reader, top, {c.name for c in classes})
    entries, sources = _read_relation_entries(reader, top)
    return Relations(tuple(classes), tuple(words), entries, sources), reader.problems


def _read_relation_classes(reader: FileReader, top: LineDict) -> list[RelationClass]:
    table = reader.mapping(top.get("classes"), top.line, "'classes'") if top.get("classes") is not None else None
    classes = []
    for name, raw in (table or {}).items():
        what = f"class '{name}'"
        row = reader.mapping(raw, table.line, what)
        if row is None:
            continue
        verdicts = {}
        for product, verdict in row.items():
            if product not in RELATION_PRODUCTS:
                reader.problem(row.line, f"{what}: unknown product '{product}' (known: {_PRODUCT_NAMES})")
            elif verdict not in RELATION_VERDICTS:
                known = "、".join(RELATION_VERDICTS)
                reader.problem(line_of(verdict, row.line), f"{what}: {product} '{verdict}' is not one of {known}")
            else:
                verdicts[RELATION_PRODUCTS[product]] = RELATION_VERDICTS[verdict]
        for product in RELATION_PRODUCTS:
            if product not in row:
                reader.problem(row.line, f"{what} says nothing for {product}")
        classes.append(RelationClass(str(name), verdicts, reader.source(row)))
    return classes


def _read_relation_words(reader: FileReader, top: LineDict, class_names: set[str]) -> list[RelationWord]:
    table = reader.mapping(top.get("words"), top.line, "'words'") if top.get("words") is not None else None
    words: dict[str, RelationWord] = {}
    for class_name, raw in (table or {}).items():
        if class_name not in class_names:
            known = "、".join(sorted(class_names)) or "none"
            reader.problem(
                line_of(raw, table.line), f"words: class '{class_name}' is not in 'classes' (known: {known})"
            )
            continue
        for word in reader.items(raw, table.line, f"words of '{class_name}'"):
            if not isinstance(word, str) or not word.strip():
                reader.problem(line_of(word, table.line), f"words of '{class_name}': items must be text")
                continue
            key = word.strip().lower()
            if key in words:
                first = words[key]
                reader.problem(
                    line_of(word),
                    f"'{key}' is listed under both '{first.class_name}' ({first.source}) and '{class_name}'",
                )
                continue
            words[key] = RelationWord(key, str(class_name), reader.source(word))
    return list(words.values())


def _read_relation_entries(reader: FileReader, top: LineDict) -> tuple[dict[str, str], dict[str, Source]]:
    table = reader.mapping(top.get("entries"), top.line, "'entries'") if top.get("entries") is not None else None
    entries: dict[str, str] = {}
    sources: dict[str, Source] = {}
    for product, raw in (table or {}).items():
        if product not in RELATION_PRODUCTS:
            reader.problem(line_of(raw, table.line), f"entries: unknown product '{product}' (known: {_PRODUCT_NAMES})")
            continue
        for faq_id in reader.items(raw, table.line, f"entries of '{product}'"):
            if not isinstance(faq_id, str) or not faq_id.strip():
                reader.problem(line_of(faq_id, table.line), f"entries of '{product}': items must be FAQ ids")
            elif faq_id in entries:
                reader.problem(line_of(faq_id), f"entry '{faq_id}' is listed under more than one product")
            else:
                entries[faq_id.strip()] = RELATION_PRODUCTS[product]
                sources[faq_id.strip()] = reader.source(faq_id)
    return entries, sources


def read_user_dictionary(path: Path, label: str) -> tuple[list[tuple[str, int | None, str | None]], list[Problem]]:
    """jieba's format, one word a line: `word [frequency] [part-of-speech]`; `#` starts a comment."""
    words, problems = [], []
    for number, line in _text_lines(path, label, problems):
        parts = line.split()
        if len(parts) > 3:
            problems.append(Problem(label, number, f"expected 'word [frequency] [tag]', got {len(parts)} fields"))
            continue
        frequency = None
        if len(parts) >= 2:
            if not parts[1].isdigit():
                problems.append(Problem(label, number, f"frequency '{parts[1]}' must be a whole number"))
                continue
            frequency = int(parts[1])
        tag = parts[2] if len(parts) == 3 else None
        words.append((parts[0], frequency, tag))
    return words, problems


def read_word_list(path: Path, label: str) -> tuple[list[str], list[Problem]]:
    """One word or phrase a line; `#` starts a comment."""
    problems: list[Problem] = []
    words = []
    for number, line in _text_lines(path, label, problems):
        if len(line.split()) > 1:
            problems.append(Problem(label, number, "one word or phrase a line, without spaces"))
            continue
        words.append(line)
    return words, problems


def read_templates(path: Path, label: str) -> tuple[dict[str, str], list[Problem]]:
    """Reply texts operators can edit: `name: text`."""
    data, problems = read_yaml(path, label)
    reader = FileReader(label)
    reader.problems.extend(problems)
    if data is None:
        return {}, reader.problems
    table = reader.mapping(data, 1, "the reply templates")
    templates = {}
    for name, text in (table or {}).items():
        if isinstance(text, str):
            value = LineStr(text.strip("\n"))
            value.line = line_of(text)
            templates[str(name)] = value
        else:
            reader.problem(line_of(text, table.line), f"template '{name}' must be text")
    return templates, reader.problems


MENU_FIELDS = {"popular": True, "buttons": False}
BUTTON_FIELDS = {"name": True, "key": False, "answer": False, "url": False, "miniprogram": False, "sub_buttons": False}
MINIPROGRAM_FIELDS = {"appid": True, "pagepath": True}


def read_menu(path: Path, label: str) -> tuple[tuple[tuple[str, ...], tuple[MenuButton, ...]], list[Problem]]:
    """`popular:` FAQ ids offered on subscribe and in fallbacks; `buttons:` the custom menu and what each answers."""
    data, problems = read_yaml(path, label)
    reader = FileReader(label)
    reader.problems.extend(problems)
    top = reader.mapping(data, 1, "the menu file") if data is not None else None
    if top is None:
        return ((), ()), reader.problems
    reader.fields(top, MENU_FIELDS, "the menu file")
    popular = tuple(reader.texts(top, "popular", "the menu file"))
    buttons = []
    if top.get("buttons") is not None:
        for raw in reader.items(top["buttons"], top.line, "'buttons'"):
            button = _read_button(reader, raw, top.line, top=True)
            if button is not None:
                buttons.append(button)
    _duplicate_keys(reader, buttons)
    return (popular, tuple(buttons)), reader.problems


def _read_button(reader: FileReader, raw: object, line: int, top: bool) -> MenuButton | None:
    entry = reader.mapping(raw, line, "a menu button")
    if entry is None:
        return None
    name = reader.text(entry, "name", "a menu button")
    what = f"menu button '{name}'"
    if not reader.fields(entry, BUTTON_FIELDS, what):
        return None
    actions = [field for field in ("key", "url", "miniprogram", "sub_buttons") if entry.get(field) is not None]
    if "sub_buttons" in actions:
        return _read_group(reader, entry, name, what, top, actions)
    key, answer, url = (reader.text(entry, field, what) or None for field in ("key", "answer", "url"))
    if key and answer is None:
        reader.problem(
            line_of(entry.get("key"), entry.line), f"{what} has a key but no 'answer' (an FAQ id, popular or help)"
        )
    if answer and key is None:
        reader.problem(entry.line, f"{what} has an answer but no 'key' (the EventKey WeChat sends when it is tapped)")
    if not actions:
        reader.problem(
            entry.line, f"{what} does nothing: give it a key and answer, a url, a miniprogram or sub_buttons"
        )
    elif key and len(actions) > 1:
        reader.problem(entry.line, f"{what} has both a key and {actions[1]}: a button does one thing")
    appid = pagepath = None
    if entry.get("miniprogram") is not None:
        program = reader.mapping(entry["miniprogram"], entry.line, f"{what}: 'miniprogram'")
        if program is not None and reader.fields(program, MINIPROGRAM_FIELDS, f"{what}: 'miniprogram'"):
            appid = reader.text(program, "appid", what)
            pagepath = reader.text(program, "pagepath", what)
        if url is None:
            reader.problem(
                entry.line,
                f"{what}: a mini-program button also needs a 'url' for WeChat versions without mini-programs",
            )
    return MenuButton(name, key, answer, url, appid, pagepath, source=reader.source(entry))


def _read_group(reader: FileReader, entry: LineDict, name: str, what: str, top: bool, actions: list[str]):
    if not top:
        reader.problem(entry.line, f"{what}: WeChat menus have two levels; a sub-button cannot have sub_buttons")
        return None
    if len(actions) > 1 or entry.get("answer") is not None:
        reader.problem(entry.line, f"{what} has sub_buttons, so tapping it opens them: remove its key, answer or url")
    subs = [
        button
        for raw in reader.items(entry["sub_buttons"], entry.line, f"{what}: 'sub_buttons'")
        if (button := _read_button(reader, raw, entry.line, top=False)) is not None
    ]
    if not subs:
        reader.problem(entry.line, f"{what}: 'sub_buttons' is empty")
        return None
    return MenuButton(name, sub_buttons=tuple(subs), source=reader.source(entry))


def _duplicate_keys(reader: FileReader, buttons: list[MenuButton]) -> None:
    seen: dict[str, MenuButton] = {}
    for button in (b for top in buttons for b in (top, *top.sub_buttons)):
        if button.key in seen:
            first = seen[button.key].source
            reader.problem(button.source.line, f"menu key '{button.key}' is already used at {first}")
        elif button.key:
            seen[button.key] = button


def click_targets(buttons: tuple[MenuButton, ...]) -> dict[str, str]:
    """EventKey → what it answers, for every CLICK button in the menu."""
    return {b.key: b.answer for top in buttons for b in (top, *top.sub_buttons) if b.key and b.answer}


COMMAND_LISTS = ("more", "helpful", "unhelpful")


def read_commands(path: Path, label: str) -> tuple[Commands, list[Problem]]:
    """Command words per command, each word in one command only; Chinese numerals for choices."""
    data, problems = read_yaml(path, label)
    reader = FileReader(label)
    reader.problems.extend(problems)
    top = reader.mapping(data, 1, "the command file") if data is not None else None
    if top is None:
        return Commands(), reader.problems
    reader.fields(top, {**dict.fromkeys(COMMAND_LISTS, True), "numbers": False}, "the command file")
    owner: dict[str, str] = {}
    lists = {}
    for name in COMMAND_LISTS:
        words = set()
        for word in reader.texts(top, name, "the command file"):
            key = word.strip().lower()
            if key in owner:
                reader.problem(line_of(word), f"'{word}' is a command word of both '{owner[key]}' and '{name}'")
            owner[key] = name
            words.add(key)
        lists[name] = frozenset(words)
    numbers = {}
    raw = top.get("numbers")
    table = reader.mapping(raw, top.line, "'numbers'") if raw is not None else None
    for numeral, value in (table or {}).items():
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            numbers[str(numeral)] = value
        else:
            reader.problem(table.line, f"numbers: '{numeral}' must map to a whole number above 0")
    return Commands(numbers=numbers, **lists), reader.problems


def read_topic_ids(path: Path, label: str) -> tuple[list[tuple[str, int]], list[Problem]]:
    """The topic list every knowledge base must cover (ids with their lines)."""
    reader, rows = _read_list_file(path, label)
    return [(str(row["id"]), row.line) for row in rows if "id" in row], reader.problems


def _complete_rows(
    path: Path, label: str, fields: dict[str, bool], kind: str, key: str
) -> tuple[FileReader, list[tuple[LineDict, str]]]:
    """The rows of a list file that have every required field, each with how messages name it."""
    reader, rows = _read_list_file(path, label)
    complete = []
    for row in rows:
        what = f"{kind} '{row.get(key)}'"
        if reader.fields(row, fields, what):
            complete.append((row, what))
    return reader, complete


def _read_list_file(path: Path, label: str) -> tuple[FileReader, list[LineDict]]:
    data, problems = read_yaml(path, label)
    reader = FileReader(label)
    reader.problems.extend(problems)
    if data is None:
        return reader, []
    rows = []
    for item in reader.items(data, 1, "the file"):
        row = reader.mapping(item, 1, "each item")
        if row is not None:
            rows.append(row)
    return reader, rows


def _text_lines(path: Path, label: str, problems: list[Problem]):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(label, 1, f"file is not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            yield number, line


def make_lexicon(user_words, synonyms, stopwords, fillers, anchors, regions, relation_words=()) -> Lexicon:
    """The matcher's vocabulary; a relative named (relations.yaml) makes a question ours, like an anchor."""
    provinces, two_places = regions
    return Lexicon(
        user_words=tuple(user_words),
        synonyms=dict(synonyms),
        stopwords=frozenset(stopwords),
        fillers=tuple(sorted(set(fillers), key=len, reverse=True)),
        anchors=frozenset(synonyms.get(word, word) for word in (*anchors, *relation_words)),
        provinces=tuple(provinces),
        two_places=synonyms.get(two_places, two_places) if two_places else None,
    )
