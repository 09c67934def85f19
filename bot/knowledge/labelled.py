"""Labelled questions (`labelled/*.jsonl`): real questions with the FAQs that answer them.

They calibrate the matcher (how far to trust its signals) and are the regression set `faq eval` reports
on. One JSON object a line: {"id", "q", "expect": [FAQ ids; empty = out of scope], "region", "kind"}.
"""

from __future__ import annotations

import json
from pathlib import Path

from .model import LabelledQuestion, Source
from .problems import Problem


def read_labelled(path: Path, label: str) -> tuple[list[LabelledQuestion], list[Problem]]:
    """Every well-formed line as a LabelledQuestion; each bad line a problem naming its line."""
    questions, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            question = LabelledQuestion(
                id=str(raw["id"]),
                text=_text(raw["q"]),
                expect=tuple(str(faq_id) for faq_id in raw.get("expect") or ()),
                region=raw.get("region"),
                kind=str(raw.get("kind") or ""),
                source=Source(label, number),
            )
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(Problem(label, number, f'expected {{"id", "q", "expect": [...]}} ({exc})'))
            continue
        questions.append(question)
    return questions, problems


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError("'q' must be non-empty text")
    return value


def unknown_answers(questions: list[LabelledQuestion], faq_ids: set[str]) -> list[Problem]:
    """A labelled question expecting an FAQ that does not exist would count every answer to it as wrong."""
    return [
        Problem(q.source.file, q.source.line, f"'{q.id}' expects unknown FAQ '{faq_id}'")
        for q in questions
        for faq_id in q.expect
        if faq_id not in faq_ids
    ]
