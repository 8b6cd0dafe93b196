"""Thin views of conversations, one module per workflow, re-exported for urls.py.

Anything a viewer may not see answers 404, whether it exists or not (no guessing).
"""

from .manage import (
    conversation_close,
    conversation_edit,
    conversation_import,
    conversation_new,
    group_conversations,
    moderation_queue,
    statement_moderate,
    statement_propose,
    statement_report,
)
from .maps import conversation_export, conversation_map
from .voting import conversation_detail, statement_new, vote

__all__ = [
    "conversation_close",
    "conversation_detail",
    "conversation_edit",
    "conversation_export",
    "conversation_import",
    "conversation_map",
    "conversation_new",
    "group_conversations",
    "moderation_queue",
    "statement_moderate",
    "statement_new",
    "statement_propose",
    "statement_report",
    "vote",
]
