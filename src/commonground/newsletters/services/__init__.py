"""Every state change of newsletters, by workflow.

``editing`` (drafts, test copies, scheduling, cancelling), ``sending`` (starting,
the chunk tasks, finishing, the periodic sweep) and ``responses`` (unsubscribes and
bounces). Each function is atomic and audit-logs what matters to members.
"""

from .editing import (
    newsletter_cancel,
    newsletter_create,
    newsletter_schedule,
    newsletter_send_test,
    newsletter_unschedule,
    newsletter_update,
)
from .responses import (
    BounceOutcome,
    bounce_record,
    recipient_resubscribe,
    recipient_unsubscribe,
)
from .sending import (
    Pacer,
    chunk_send,
    newsletter_finish_if_done,
    newsletter_send_start,
    newsletters_sweep,
    recipient_send,
    send_chunk,
    start_sending,
)

__all__ = [
    "BounceOutcome",
    "Pacer",
    "bounce_record",
    "chunk_send",
    "newsletter_cancel",
    "newsletter_create",
    "newsletter_finish_if_done",
    "newsletter_schedule",
    "newsletter_send_start",
    "newsletter_send_test",
    "newsletter_unschedule",
    "newsletter_update",
    "newsletters_sweep",
    "recipient_resubscribe",
    "recipient_send",
    "recipient_unsubscribe",
    "send_chunk",
    "start_sending",
]
