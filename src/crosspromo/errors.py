"""Domain errors. One handler (web/problems.py) turns them into RFC 9457 problem+json."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str
    line: int | None = None


@dataclass
class DomainError(Exception):
    """A refusal the user can act on. `kind` becomes the stable problem type URI."""

    detail: str
    field: str | None = None
    errors: list[FieldError] = dataclasses.field(default_factory=list)
    kind: str = "error"
    status: int = 400
    title: str = "Bad request"
    # Extra members of the problem+json body (RFC 9457 extensions), e.g. an import summary.
    extensions: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        Exception.__init__(self, self.detail)
        if self.field and not self.errors:
            self.errors = [FieldError(self.field, self.detail)]


class NotFound(DomainError):
    def __init__(self, detail: str = "Not found.", field: str | None = None) -> None:
        super().__init__(detail, field, kind="not-found", status=404, title="Not found")


class Invalid(DomainError):
    def __init__(
        self, detail: str, field: str | None = None, errors: list[FieldError] | None = None
    ) -> None:
        super().__init__(
            detail, field, errors or [], kind="validation", status=422, title="Invalid input"
        )


class Conflict(DomainError):
    def __init__(
        self, detail: str, field: str | None = None, kind: str = "conflict", **extensions: Any
    ) -> None:
        super().__init__(
            detail, field, kind=kind, status=409, title="Conflict", extensions=extensions
        )


class Forbidden(DomainError):
    def __init__(self, detail: str = "You may not do this.") -> None:
        super().__init__(detail, kind="forbidden", status=403, title="Forbidden")


class Unauthorized(DomainError):
    def __init__(self, detail: str = "Sign in or send an API key.") -> None:
        super().__init__(detail, kind="unauthorized", status=401, title="Unauthorized")


class TooLarge(DomainError):
    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail, field, kind="too-large", status=413, title="Too large")
