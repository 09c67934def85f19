"""Plain, frozen records for what the operators' files hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Source:
    """Where a value came from, so every problem can name `file:line`."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Question:
    """One way of asking an entry's question; `source` points at its line."""

    text: str
    source: Source


@dataclass(frozen=True)
class FaqEntry:
    """One curated question with its answer, provenance and regional notes."""

    id: str
    category: str
    question: Question
    alternates: tuple[Question, ...]
    answer: str
    sources: tuple[str, ...]  # ids of sources.yaml entries
    reviewed: str
    related: tuple[str, ...] = ()
    regions: dict[str, str] = field(default_factory=dict)
    source: Source = Source("", 0)
    notes: tuple[str, ...] = ()  # what the sources leave open, for reviewers; never shown to users
    cited_at: tuple[Source, ...] = ()  # where each of `sources` is written

    @property
    def questions(self) -> tuple[Question, ...]:
        """The standard question first, then every alternate."""
        return (self.question, *self.alternates)

    @property
    def title(self) -> str:
        return self.question.text


#: How official a source is, from sources.yaml's `official` field (README, operator guide).
OFFICIAL_LEVELS = ("official", "official-news", "official-local", "seed", "unverified")


@dataclass(frozen=True)
class Reference:
    """A document the answers rest on (sources.yaml), cited by id from the entries' `sources`."""

    id: str
    title: str
    publisher: str
    official: str  # one of OFFICIAL_LEVELS
    date: str = ""  # 2024-11-26, 2024-11 or 2024
    address: str = ""
    superseded: bool = False  # replaced by newer rules: entries citing it need another look
    note: str = ""
    source: Source = Source("", 0)

    def __str__(self) -> str:
        """How an answer's source is shown to users: publisher《title》date."""
        return f"{self.publisher}《{self.title}》{self.date}".strip()


@dataclass(frozen=True)
class OutOfScopeTopic:
    """A topic the bot must not answer, with examples so the matcher recognises it."""

    id: str
    name: str
    examples: tuple[Question, ...]
    reply: str | None = None
    source: Source = Source("", 0)


@dataclass(frozen=True)
class SmalltalkIntent:
    """Greetings, thanks, help and the like: short phrases with a canned reply."""

    id: str
    phrases: tuple[str, ...]
    reply: str
    source: Source = Source("", 0)


@dataclass(frozen=True)
class Province:
    """A province-level region: its short name, other names and cities."""

    name: str
    aliases: tuple[str, ...]
    cities: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """Domain words for segmentation, their canonical forms and the words to ignore."""

    user_words: tuple[tuple[str, int | None, str | None], ...]
    synonyms: dict[str, str]
    stopwords: frozenset[str]
    fillers: tuple[str, ...]
    anchors: frozenset[str]
    provinces: tuple[Province, ...]
    two_places: str | None = None  # the word a message naming two different places counts as saying


#: The products a relation line can be about, as written in relations.yaml → the name templates use.
RELATION_PRODUCTS = {"共济": "gongji", "亲情账户": "qinqing"}
#: What relations.yaml may say a class of relatives gets → the name templates use.
RELATION_VERDICTS = {"可以": "yes", "看当地": "local", "不可以": "no", "看页面": "page"}


def relation_template(product: str, verdict: str) -> str:
    """The replies.yaml template for one product and verdict, e.g. relation_gongji_no."""
    return f"relation_{product}_{verdict}"


@dataclass(frozen=True)
class RelationClass:
    """A class of relatives (配偶, 兄弟姐妹, 不是近亲属 …) and the verdict each product gives it."""

    name: str
    verdicts: dict[str, str]  # product (gongji, qinqing) → verdict (yes, local, no, page)
    source: Source = Source("", 0)


@dataclass(frozen=True)
class RelationWord:
    """One way users name a relative, and the class it belongs to."""

    word: str
    class_name: str
    source: Source = Source("", 0)


@dataclass(frozen=True)
class Relations:
    """Relation words and their 近亲属 classes; the entries whose answers open with a line for the relative."""

    classes: tuple[RelationClass, ...] = ()
    words: tuple[RelationWord, ...] = ()
    entries: dict[str, str] = field(default_factory=dict)  # FAQ id → product
    entry_sources: dict[str, Source] = field(default_factory=dict)

    @cached_property
    def class_of(self) -> dict[str, RelationClass]:
        """Each relation word → its class."""
        by_name = {c.name: c for c in self.classes}
        return {w.word: by_name[w.class_name] for w in self.words if w.class_name in by_name}

    @cached_property
    def longest_word(self) -> int:
        return max((len(word) for word in self.class_of), default=0)


@dataclass(frozen=True)
class Commands:
    """Whole messages that are commands rather than questions."""

    more: frozenset[str] = frozenset()
    helpful: frozenset[str] = frozenset()
    unhelpful: frozenset[str] = frozenset()
    numbers: dict[str, int] = field(default_factory=dict)  # 一 → 1, for "第二个"


@dataclass(frozen=True)
class LabelledQuestion:
    """A question as a user asked it, with the FAQs that answer it (none: out of scope)."""

    id: str
    text: str
    expect: tuple[str, ...]
    region: str | None = None  # the province-level region it names
    kind: str = ""  # paraphrase, voice, long …: for figures per kind
    source: Source = Source("", 0)


@dataclass(frozen=True)
class MenuButton:
    """One button of the account's custom menu: a CLICK key and what it answers, a link, or a group of buttons."""

    name: str
    key: str | None = None  # CLICK: the EventKey WeChat sends back
    answer: str | None = None  # CLICK: an FAQ id, "popular" or "help"
    url: str | None = None  # view: the page; miniprogram: the page for WeChat versions without mini-programs
    appid: str | None = None  # miniprogram
    pagepath: str | None = None  # miniprogram
    sub_buttons: tuple[MenuButton, ...] = ()
    source: Source = Source("", 0)

    @property
    def kind(self) -> str:
        """WeChat's button type: click, view or miniprogram; "group" for a top-level button with sub-buttons."""
        if self.sub_buttons:
            return "group"
        if self.key:
            return "click"
        return "miniprogram" if self.appid else "view"


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything loaded from one knowledge directory, validated."""

    faqs: tuple[FaqEntry, ...]
    out_of_scope: tuple[OutOfScopeTopic, ...]
    smalltalk: tuple[SmalltalkIntent, ...]
    lexicon: Lexicon
    templates: dict[str, str]
    popular: tuple[str, ...] = ()
    menu: dict[str, str] = field(default_factory=dict)  # WeChat menu EventKey → FAQ id, "popular" or "help"
    buttons: tuple[MenuButton, ...] = ()  # the WeChat custom menu, as `flask wechat menu push` creates it
    commands: Commands = Commands()
    relations: Relations = Relations()
    labelled: tuple[LabelledQuestion, ...] = ()  # for calibration and `faq eval`
    references: tuple[Reference, ...] = ()  # sources.yaml

    @cached_property
    def faqs_by_id(self) -> dict[str, FaqEntry]:
        return {faq.id: faq for faq in self.faqs}

    @cached_property
    def references_by_id(self) -> dict[str, Reference]:
        return {reference.id: reference for reference in self.references}

    def faq(self, faq_id: str) -> FaqEntry | None:
        return self.faqs_by_id.get(faq_id)
