"""The refusals decisions services raise: a message for the member and an HTTP status."""

from __future__ import annotations


class DecisionRefused(Exception):
    """A refusal to show the member: ``status`` is the HTTP status a view answers with."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class IntegrityMismatch(DecisionRefused):
    """The election's stored definition no longer matches its seal: counting refuses."""
