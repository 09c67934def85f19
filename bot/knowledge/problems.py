"""What goes wrong in an operator's file, named by file and line."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the knowledge files, printed as `file:line: message`."""

    file: str
    line: int
    message: str
    unreadable: bool = field(default=False, compare=False)  # the whole file was lost, not one value

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge directory cannot be served; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
