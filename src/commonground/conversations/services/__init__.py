"""Every state change of conversations, one module per workflow, re-exported here;
callers use ``services.<name>``:

- ``conversations``: opening (with seed statements), settings, closing and the
  final map; ``statements``: adding, moderating and reporting statements;
- ``voting``: the lean vote path (one upsert and one history row);
- ``maps``: the opinion map, refreshed in the background with the engine's
  incremental fit; ``proposals``: a consensus statement becomes a proposal;
- ``polis``: export and import in the Pol.is openData layout;
- below them, imported by them and never the reverse: ``errors``, ``clock`` and
  ``locks`` (the row locks and their order).

Each service is typed, keyword-only and atomic where it writes more than one row:
permission check, write, audit entry (settings, moderation, import; votes are kept
in their own append-only history instead) and notification (queued after commit).
"""

from __future__ import annotations

from .conversations import (
    SETTING_NAMES,
    ConversationSettings,
    conversation_close,
    conversation_create,
    conversation_finish,
    conversation_update,
    conversations_finish_due,
)
from .errors import ConversationRefused, StatementRateLimited
from .maps import RefreshReport, map_is_stale, map_refresh, map_refresh_soon
from .polis import (
    ImportRefused,
    conversation_export,
    conversation_import,
    export_zip,
)
from .privacy import member_forget
from .proposals import statement_to_proposal
from .statements import (
    statement_accept,
    statement_add,
    statement_reject,
    statement_report,
)
from .voting import VoteReceipt, parse_value, vote_cast

__all__ = [
    "SETTING_NAMES",
    "ConversationRefused",
    "ConversationSettings",
    "ImportRefused",
    "RefreshReport",
    "StatementRateLimited",
    "VoteReceipt",
    "conversation_close",
    "conversation_create",
    "conversation_export",
    "conversation_finish",
    "conversation_import",
    "conversation_update",
    "conversations_finish_due",
    "export_zip",
    "map_is_stale",
    "map_refresh",
    "map_refresh_soon",
    "member_forget",
    "parse_value",
    "statement_accept",
    "statement_add",
    "statement_reject",
    "statement_report",
    "statement_to_proposal",
    "vote_cast",
]
