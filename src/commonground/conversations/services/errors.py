"""The refusals conversation services raise: a message for the member and a status."""

from __future__ import annotations


class ConversationRefused(Exception):
    """A refusal to show the member: ``status`` is the HTTP status a view answers with."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class StatementRateLimited(ConversationRefused):
    """Too many statements from one participant in the window (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after
