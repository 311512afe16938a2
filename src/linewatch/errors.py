"""Errors users can act on: bad input names its source and the place within it.

Parsers and importers raise these; the CLI turns them into exit code 2 and the API into
HTTP 400/422 with the same message. Bad input never produces a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class InputError(Exception):
    """Bad input at a known place: a line, a YAML path, a byte offset or a packet number."""

    def __init__(self, source: str, place: str, message: str) -> None:
        self.source = source
        self.place = place
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ":".join(p for p in (self.source, self.place) if p)
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "place": self.place, "message": self.message}


class InputErrors(Exception):
    """Several input errors found in one pass, reported together so a user fixes them at once."""

    def __init__(self, errors: Iterable[InputError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def as_list(self) -> list[dict[str, str]]:
        return [e.as_dict() for e in self.errors]
