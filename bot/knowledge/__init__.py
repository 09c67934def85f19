"""The operators' knowledge files: load them into a validated `KnowledgeBase`, or say what is wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from . import lint
from .labelled import read_labelled, unknown_answers
from .loader import (
    click_targets,
    make_lexicon,
    read_commands,
    read_faq_file,
    read_menu,
    read_out_of_scope,
    read_regions,
    read_relations,
    read_smalltalk,
    read_sources,
    read_synonyms,
    read_templates,
    read_topic_ids,
    read_user_dictionary,
    read_word_list,
)
from .model import (
    Commands,
    FaqEntry,
    KnowledgeBase,
    LabelledQuestion,
    Lexicon,
    MenuButton,
    OutOfScopeTopic,
    Province,
    Reference,
    Relations,
    SmalltalkIntent,
    relation_template,
)
from .problems import KnowledgeError, Problem

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "knowledge"

#: Templates the conversation cannot do without, each with the {names} it may use.
TEMPLATE_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(fields)
    for name, fields in {
        "region_hint": (),
        "region_note": ("region", "note"),
        "region_nothing_local": ("place",),
        "clarify": ("options",),
        "clarify_option": ("number", "title"),
        "clarify_buttons": (),
        "fallback": (),
        "fallback_unsure": (),
        "also_asked": ("title",),
        "hotline": (),
        "what_i_cover": ("popular",),
        "popular_item": ("number", "title"),
        "policy_note": (),
        "page_footer": (),
        "no_more_pages": (),
        "option_out_of_range": ("count",),
        "feedback_thanks": (),
        "feedback_sorry": (),
        "feedback_nothing": (),
        "feedback_prompt": (),
        "greeting": ("popular",),
        "chat_greeting": ("popular",),
        "media_unsupported": ("popular",),
        "faq_card_title": (),
        "voice_unrecognized": (),
        "error": (),
    }.items()
}

__all__ = [
    "DEFAULT_DIR",
    "FaqEntry",
    "KnowledgeBase",
    "KnowledgeError",
    "Lexicon",
    "MenuButton",
    "OutOfScopeTopic",
    "Problem",
    "Province",
    "Reference",
    "Relations",
    "SmalltalkIntent",
    "check",
    "due_for_review",
    "load",
    "relation_template",
]


def load(directory: str | Path = DEFAULT_DIR) -> KnowledgeBase:
    """Load and validate a knowledge directory; raise `KnowledgeError` listing every problem."""
    kb, problems = check(directory)
    if problems:
        raise KnowledgeError(problems)
    return kb


def faq_files(root: Path) -> list[Path]:
    """faqs/*.yaml that are files: a folder of that name or an editor's hidden file is not an FAQ file."""
    return sorted(p for p in (root / "faqs").glob("*.yaml") if p.is_file() and not p.name.startswith("."))


def labelled_files(root: Path) -> list[Path]:
    """labelled/*.jsonl that are files (the folder is optional); hidden ones are editors' temporary files."""
    return sorted(p for p in (root / "labelled").glob("*.jsonl") if p.is_file() and not p.name.startswith("."))


def source_files(directory: str | Path) -> list[Path]:
    """The files the loader reads: faqs/*.yaml, labelled/*.jsonl, *.yaml, *.txt; never editors' temporary files."""
    root = Path(directory)
    top = (p for pattern in ("*.yaml", "*.txt") for p in root.glob(pattern))
    return [
        *faq_files(root),
        *labelled_files(root),
        *sorted(p for p in top if p.is_file() and not p.name.startswith(".")),
    ]


def check(directory: str | Path = DEFAULT_DIR) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Everything `faq lint` reports: schema problems per file, then the rules across files."""
    root = Path(directory)
    problems: list[Problem] = []

    def part(reader, name: str, default):
        path = root / name
        if not path.is_file():
            problems.append(Problem(_label(root, path), 1, "file is missing"))
            return default
        value, found = reader(path, _label(root, path))
        problems.extend(found)
        return value

    faq_paths = faq_files(root)
    if not faq_paths:
        problems.append(Problem(_label(root, root / "faqs"), 1, "no FAQ files (faqs/*.yaml)"))
    faqs = []
    for path in faq_paths:
        entries, found = read_faq_file(path, _label(root, path))
        faqs.extend(entries)
        problems.extend(found)

    relations = part(read_relations, "relations.yaml", Relations())
    lexicon = make_lexicon(
        user_words=part(read_user_dictionary, "userdict.txt", []),
        synonyms=part(read_synonyms, "synonyms.yaml", {}),
        stopwords=part(read_word_list, "stopwords.txt", []),
        fillers=part(read_word_list, "fillers.txt", []),
        anchors=part(read_word_list, "anchors.txt", []),
        regions=part(read_regions, "regions.yaml", ([], None)),
        relation_words=[w.word for w in relations.words],
    )
    popular, buttons = part(read_menu, "menu.yaml", ((), ()))
    kb = KnowledgeBase(
        faqs=tuple(faqs),
        out_of_scope=tuple(part(read_out_of_scope, "out_of_scope.yaml", [])),
        smalltalk=tuple(part(read_smalltalk, "smalltalk.yaml", [])),
        lexicon=lexicon,
        templates=part(read_templates, "replies.yaml", {}),
        popular=popular,
        menu=click_targets(buttons),
        buttons=buttons,
        commands=part(read_commands, "commands.yaml", Commands()),
        relations=relations,
        labelled=tuple(_labelled(root, problems)),
        references=tuple(part(read_sources, "sources.yaml", [])),
    )
    if any(p.unreadable for p in problems):
        # A file that did not parse lost all its entries; every rule across files would only echo that.
        return kb, sorted(set(problems))
    for rule in lint.RULES:
        problems.extend(rule(kb))
    topics = part(read_topic_ids, "topics.yaml", [])
    problems.extend(lint.missing_topics(kb, topics, _label(root, root / "topics.yaml")))
    problems.extend(lint.unknown_menu_targets(kb, _label(root, root / "menu.yaml")))
    problems.extend(unknown_answers(list(kb.labelled), set(kb.faqs_by_id)))
    problems.extend(lint.template_problems(kb, _template_fields(kb.relations), _label(root, root / "replies.yaml")))
    return kb, sorted(set(problems))


def due_for_review(kb: KnowledgeBase, today: dt.date, max_age_days: int) -> list[Problem]:
    """What `faq lint` warns about but the bot still serves: old reviews (0 days = never), superseded sources."""
    stale = lint.stale_reviews(kb, today, max_age_days) if max_age_days > 0 else ()
    return sorted({*stale, *lint.superseded_citations(kb)})


def _template_fields(relations: Relations) -> dict[str, frozenset[str]]:
    """The fixed templates, and a relation line for every product and verdict relations.yaml uses."""
    used = {
        relation_template(product, verdict): frozenset({"relatives"})
        for relation_class in relations.classes
        for product, verdict in relation_class.verdicts.items()
    }
    return {**TEMPLATE_FIELDS, **used}


def _labelled(root: Path, problems: list[Problem]) -> list[LabelledQuestion]:
    """Every labelled/*.jsonl file; the folder is optional."""
    questions = []
    for path in labelled_files(root):
        found, bad = read_labelled(path, _label(root, path))
        questions.extend(found)
        problems.extend(bad)
    return questions


def _label(root: Path, path: Path) -> str:
    """How a file is named in messages: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())  # the folder a `live` link points at, not the link
