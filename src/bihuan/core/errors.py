"""Error types every capability raises; the API turns them into clear HTTP answers."""

from __future__ import annotations


class BihuanError(Exception):
    """Base of the platform's own errors."""

    status_code = 400


class FieldError(BihuanError, ValueError):
    """A value refused: names the field and the reason, so a person can act on it."""

    status_code = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(BihuanError):
    """The thing does not exist, or lies outside the user's jurisdiction (the same answer for both)."""

    status_code = 404


class Forbidden(BihuanError):
    """The user's role may not do this."""

    status_code = 403


class Conflict(BihuanError):
    """The request contradicts what is stored (a duplicate, a stale state)."""

    status_code = 409


class ConfigurationError(BihuanError):
    """A setting or a protocol profile is refused: names the field and the reason."""
