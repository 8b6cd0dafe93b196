"""Every state change of publishing, by workflow.

``articles`` (drafts, review, publication, scheduling, corrections, withdrawal, the
review policy, bylines) and ``media`` (images). Each function is atomic and
audit-logs what matters to members.
"""

from ._shared import article_changed
from .articles import (
    article_create,
    article_publish,
    article_request_changes,
    article_submit,
    article_unschedule,
    article_update,
    article_withdraw,
    articles_sweep,
    author_forget,
    author_profile_for,
    author_profile_update,
    policy_update,
)
from .media import image_delete, image_upload

__all__ = [
    "article_changed",
    "article_create",
    "article_publish",
    "article_request_changes",
    "article_submit",
    "article_unschedule",
    "article_update",
    "article_withdraw",
    "articles_sweep",
    "author_forget",
    "author_profile_for",
    "author_profile_update",
    "image_delete",
    "image_upload",
    "policy_update",
]
