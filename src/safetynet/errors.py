"""One error hierarchy. Messages say what valid input looks like."""

from __future__ import annotations

from dataclasses import dataclass, field


class SafetynetError(Exception):
    """Base of every error the platform raises on purpose."""


class ConfigurationError(SafetynetError):
    """The platform is set up wrongly (missing database, missing extra, ...)."""


class NotFoundError(SafetynetError):
    """A record asked for does not exist (or is outside the caller's region)."""


@dataclass(frozen=True)
class RowError:
    """One problem in one cell of an input file. `line` is the 1-based line in the file
    (the header is line 1), so a clerk can open the file and find it."""

    file: str
    line: int | None
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "reason": self.reason}

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


@dataclass
class InputFileError(SafetynetError):
    """An input file (or set of files) cannot be taken; `errors` name every problem."""

    errors: list[RowError] = field(default_factory=list)

    def __str__(self) -> str:
        shown = "\n".join(f"  {e}" for e in self.errors[:20])
        more = f"\n  … and {len(self.errors) - 20} more" if len(self.errors) > 20 else ""
        return f"{len(self.errors)} problem(s) in input:\n{shown}{more}"
