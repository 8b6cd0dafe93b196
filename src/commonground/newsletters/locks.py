"""The row locks newsletter writes take, and their order.

Lock order: a ``Newsletter`` row before any of its ``Recipient`` rows. Starting,
finishing and cancelling lock the newsletter (and cancelling then updates pending
recipient rows); sending one email locks only its recipient row, with
``skip_locked`` so two runs of the same chunk share the work instead of waiting, and
commits before the chunk touches the newsletter again. No transaction ever holds a
recipient row while asking for its newsletter, so none can deadlock.

On SQLite ``select_for_update`` does nothing: its IMMEDIATE write transactions run
one at a time, which gives the same guarantees.
"""

from __future__ import annotations

from .models import Newsletter, Recipient


def newsletter_for_update(newsletter_id: int) -> Newsletter | None:
    """The newsletter, locked until the transaction ends (None if it is gone)."""
    return (
        Newsletter.objects.select_for_update(of=("self",))
        .select_related("group__organisation", "audience_group")
        .filter(pk=newsletter_id)
        .first()
    )


def pending_recipient_for_update(recipient_id: int) -> Recipient | None:
    """The recipient row if it is still pending and no one else holds it, locked,
    with its member; None if it was sent, skipped, or is being sent right now."""
    return (
        Recipient.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("member")
        .filter(pk=recipient_id, status=Recipient.Status.PENDING)
        .first()
    )
