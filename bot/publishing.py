"""Drafts, published versions, a regression gate and rollback for the knowledge directory.

The store is a folder (by default `instance/knowledge/`):

    live -> versions/0003      the directory every worker serves: a symlink, replaced in one rename
    versions/0001/ …           each published version, a full copy, never changed afterwards
    drafts/<name>/             an editor's copy of the live knowledge, edited freely
    history.jsonl              one line per publish, rollback and refused publish: who, when, what

Until the first publish `live` points at KNOWLEDGE_DIR itself, so editing those files by hand (or `git
pull`) keeps working as before. Publishing lints the draft, runs the labelled questions on the draft and on
the live knowledge, and refuses a change that makes a question answered right go wrong; otherwise it
copies the draft to a new version and points `live` at it. Workers notice the new link like any edit
(bot.knowledge_source) and retrain in the background; a rollback points `live` at an older version.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import bot.knowledge as knowledge
from bot.knowledge import FaqEntry, KnowledgeBase, KnowledgeError
from bot.knowledge_source import trained
from bot.matching import Match, Policy
from bot.matching.evaluation import Outcome, evaluate

log = logging.getLogger(__name__)

VERSION_DIGITS = 4
#: In a draft: the live version it was copied from (hidden, so the loader never reads it).
BASE_FILE = ".based-on-version"
COMPARED_FIELDS = ("question", "alternates", "answer", "related", "regions", "sources", "notes", "reviewed")


class PublishError(Exception):
    """A request the store cannot carry out: an unknown version or draft, nothing to publish."""


@dataclass(frozen=True)
class Regression:
    """A labelled question the live knowledge answers right and the draft would not."""

    question_id: str
    question: str
    expected: tuple[str, ...]
    now: str  # what the draft does instead, naming the entry that took it

    def __str__(self) -> str:
        expected = ", ".join(self.expected) or "(out of scope: no answer)"
        return f"{self.question_id} «{self.question}»: was answered right ({expected}); now {self.now}"


@dataclass(frozen=True)
class PublishResult:
    """What a publish did: the new version, or why it was refused."""

    accepted: bool
    version: int | None = None
    changes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # lint's file:line messages
    regressions: tuple[Regression, ...] = ()

    @property
    def reasons(self) -> list[str]:
        return [*self.problems, *(str(r) for r in self.regressions)]


@dataclass(frozen=True)
class Version:
    """One published version: who published it, when, and what changed from the version before."""

    number: int
    author: str
    at: str
    message: str = ""
    changes: tuple[str, ...] = ()
    live: bool = False


@dataclass
class Store:
    """The published versions, drafts and history of one deployment's knowledge."""

    root: Path
    policy: Policy = field(default_factory=Policy)

    def __post_init__(self):
        self.root = Path(self.root)

    @property
    def live(self) -> Path:
        """The path every worker serves (a symlink)."""
        return self.root / "live"

    def serve(self, knowledge_dir: str | Path) -> Path:
        """The directory to serve: `live` once published or when it points at `knowledge_dir`.

        Until the first publish `live` is made to point at `knowledge_dir` if it is missing or dangling, but
        never moved from another folder: a command run with KNOWLEDGE_DIR set to a copy must not make the
        running server serve that copy. Such a process serves its folder directly (and logs it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.live_version() is not None:
            return self.live
        target = Path(knowledge_dir).resolve()
        if not self.live.exists():  # missing, or pointing at a folder that is gone
            _point(self.live, target)
        if self.live.resolve() == target:
            return self.live
        log.warning("knowledge_store_elsewhere: %s serves another folder; serving %s directly", self.live, target)
        return target

    def live_version(self) -> int | None:
        """The published version being served; None while `live` points at the hand-edited folder."""
        if not self.live.is_symlink():
            return None
        target = Path(os.readlink(self.live))
        if target.parent.name == "versions" and target.name.isdigit():
            return int(target.name)
        return None

    def version_dir(self, number: int) -> Path:
        return self.root / "versions" / f"{number:0{VERSION_DIGITS}d}"

    def draft(self, name: str, reset: bool = False) -> Path:
        """An editor's draft folder, a copy of the live knowledge made on first use (or again with `reset`)."""
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise PublishError(f"a draft name is letters, digits, - and _, not {name!r}")
        path = self.root / "drafts" / name
        if reset and path.exists():
            shutil.rmtree(path)
        if not path.exists():
            _copy_knowledge(self.live.resolve(), path)
            (path / BASE_FILE).write_text(str(self.live_version() or 0), encoding="utf-8")
        return path

    def discard_draft(self, name: str) -> None:
        shutil.rmtree(self.root / "drafts" / name, ignore_errors=True)

    def versions(self) -> list[Version]:
        """Every published version, oldest first, the one being served marked live."""
        live = self.live_version()
        found = {}
        for event in self.history():
            if event["event"] == "publish":
                found[event["version"]] = Version(
                    number=event["version"],
                    author=event["author"],
                    at=event["at"],
                    message=event.get("message", ""),
                    changes=tuple(event.get("changes", ())),
                    live=event["version"] == live,
                )
        return [found[n] for n in sorted(found)]

    def history(self) -> list[dict]:
        """Every publish, rollback and refused publish, oldest first."""
        path = self.root / "history.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def last_rejected(self) -> dict | None:
        """The most recent refused publish (who, when, why), for /healthz and the console."""
        rejected = [event for event in self.history() if event["event"] == "rejected"]
        return rejected[-1] if rejected else None

    def publish(self, source: str | Path, author: str, message: str = "", force: bool = False) -> PublishResult:
        """Lint `source`, run the regression gate against live, and if both pass make it the next live version.

        Refuses (PublishError) a source that would silently undo a publish made since it was copied, unless
        `force`. Takes as long as training a matcher on the draft (15-30 s); one publish at a time per store."""
        source = Path(source)
        if not source.is_dir():
            raise PublishError(f"nothing to publish: {source} is not a folder")
        with self._lock():
            if not force:
                self._check_base(source)
            try:
                draft_kb, draft_matcher = trained(source.resolve(), self.policy)
            except KnowledgeError as exc:
                return self._refuse(author, message, problems=[str(p) for p in exc.problems])
            try:
                live_kb, live_matcher = trained(self.live.resolve(), self.policy)
            except KnowledgeError:  # a broken hand edit: nothing to compare with, the workers serve an older base
                live_kb = live_matcher = None
            if live_kb is None:
                changes, regressions = ["replaces live files that did not load"], []
            else:
                changes = describe_changes(live_kb, draft_kb, self.live.resolve(), source)
                regressions = find_regressions(live_kb, live_matcher.match, draft_matcher.match)
            if not changes and self.live_version() is not None:
                raise PublishError(f"nothing to publish: {source} is the same as live version {self.live_version()}")
            if regressions:
                return self._refuse(author, message, regressions=regressions)
            number = self._next_number()
            _copy_knowledge(source, self.version_dir(number))
            _point(self.live, Path("versions") / self.version_dir(number).name)
            self._record(
                "publish",
                author,
                version=number,
                message=message,
                changes=changes or ["first version"],
                source=str(source.resolve()),
            )
            return PublishResult(True, number, tuple(changes))

    def _check_base(self, source: Path) -> None:
        """A draft must start from the live version; another folder must be where live was published from."""
        live = self.live_version()
        if live is None:
            return
        base_file = source / BASE_FILE
        if base_file.is_file():
            base = int(base_file.read_text(encoding="utf-8").strip() or 0)
            if base != live:
                raise PublishError(
                    f"live is version {live} now, but this draft was copied from version {base}: publishing it would "
                    "undo what was published since; start a new draft (faq draft NAME --reset) and redo the change"
                )
            return
        published = [e for e in self.history() if e["event"] == "publish" and e["version"] == live]
        if published and published[-1].get("source") != str(source.resolve()):
            raise PublishError(
                f"live version {live} was published from {published[-1].get('source')}, not from {source}: "
                "publishing this folder would undo its changes; edit a draft (faq draft NAME) instead, or force it"
            )

    def rollback(self, number: int, author: str) -> Version:
        """Serve published version `number` again (no gate: it was served before)."""
        with self._lock():
            if not self.version_dir(number).is_dir():
                raise PublishError(f"there is no version {number}; `faq versions` lists them")
            previous = self.live_version()
            _point(self.live, Path("versions") / self.version_dir(number).name)
            self._record("rollback", author, version=number, message=f"from version {previous}")
        return next(v for v in self.versions() if v.number == number)

    def _refuse(self, author, message, problems=(), regressions=()) -> PublishResult:
        result = PublishResult(False, problems=tuple(problems), regressions=tuple(regressions))
        self._record("rejected", author, message=message, reasons=result.reasons)
        return result

    def _next_number(self) -> int:
        numbers = [int(p.name) for p in (self.root / "versions").glob("[0-9]*") if p.name.isdigit()]
        return max(numbers, default=0) + 1

    def _record(self, event: str, author: str, **details) -> None:
        line = {"event": event, "author": author, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        with open(self.root / "history.jsonl", "a", encoding="utf-8") as history:
            history.write(json.dumps({**line, **details}, ensure_ascii=False) + "\n")

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One publish or rollback at a time, across processes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def find_regressions(live_kb: KnowledgeBase, live_match, draft_match) -> list[Regression]:
    """The live knowledge's labelled questions it handles right and the draft gets wrong.

    Asking back with the right entry among the options is not wrong: retraining moves the learned thresholds
    a little with every change, and one added alternate may turn a few answers into such questions back."""
    questions = list(live_kb.labelled)
    before = evaluate(live_match, questions).outcomes
    candidates = [o.item for o in before if _right(o)]
    after = evaluate(draft_match, candidates).outcomes
    return [Regression(o.item.id, o.item.text, o.item.expect, _what_happens(o.match)) for o in after if _wrong(o)]


def _right(outcome: Outcome) -> bool:
    """In scope: answered with an expected entry; out of scope: not answered."""
    return outcome.correct if outcome.in_scope else not outcome.false_accept


def _wrong(outcome: Outcome) -> bool:
    """In scope: answered with another entry, or fallen back, or asked back without an expected entry."""
    if outcome.in_scope:
        return not (outcome.correct or outcome.clarify_hit)
    return outcome.false_accept


def _what_happens(match: Match) -> str:
    offered = ", ".join(c.faq_id for c in match.candidates[:3])
    if match.action == "answer":
        return f"entry '{match.faq_id}' takes it"
    if match.action == "clarify":
        return f"asks back among {offered} (best: entry '{match.candidates[0].faq_id}')"
    if match.action == "smalltalk":
        return "answered as small talk"
    return f"falls back (closest: entry '{match.candidates[0].faq_id}')" if match.candidates else "falls back"


def describe_changes(old: KnowledgeBase, new: KnowledgeBase, old_dir: Path, new_dir: Path) -> list[str]:
    """What a publish changes, one line each: entries added, removed or changed (which fields), other files."""
    lines = []
    old_faqs, new_faqs = old.faqs_by_id, new.faqs_by_id
    for faq_id in new_faqs.keys() - old_faqs.keys():
        lines.append(f"added entry {faq_id}")
    for faq_id in old_faqs.keys() - new_faqs.keys():
        lines.append(f"removed entry {faq_id}")
    for faq_id in old_faqs.keys() & new_faqs.keys():
        fields = _changed_fields(old_faqs[faq_id], new_faqs[faq_id])
        if fields:
            lines.append(f"changed entry {faq_id}: {', '.join(fields)}")
    faq_files = {p.relative_to(new_dir) for p in knowledge.faq_files(new_dir)}
    faq_files |= {p.relative_to(old_dir) for p in knowledge.faq_files(old_dir)}
    others = {p.relative_to(d) for d in (old_dir, new_dir) for p in knowledge.source_files(d)} - faq_files
    for name in sorted(others, key=str):
        a, b = old_dir / name, new_dir / name
        if not (a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()):
            lines.append(f"changed file {name}")
    return sorted(lines)


def _changed_fields(old: FaqEntry, new: FaqEntry) -> list[str]:
    def value(entry: FaqEntry, name: str):
        raw = getattr(entry, name)
        if name == "question":
            return raw.text
        if name == "alternates":
            return tuple(q.text for q in raw)
        return raw

    return [name for name in COMPARED_FIELDS if value(old, name) != value(new, name)]


def _copy_knowledge(source: Path, target: Path) -> None:
    """Copy the operators' files (not editors' hidden files) to a new folder, which appears whole or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial, ignore=shutil.ignore_patterns(".*", "*~", "__pycache__"))
    os.rename(partial, target)


def _point(link: Path, target: Path) -> None:
    """Make `link` point at `target` in one rename: a reader sees the old or the new target, never neither."""
    temporary = link.parent / f".{link.name}.new"
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, link)
