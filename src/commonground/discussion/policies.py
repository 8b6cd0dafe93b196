"""Who may read, post and moderate a discussion: decided by the target's own app.

The discussion app knows nothing about proposals, hustings or articles. The app that
owns a target model registers a policy for it (in its ``AppConfig.ready()``)::

    from commonground.discussion.policies import register_policy

    class ProposalDiscussion:
        def can_read(self, user, target) -> bool: ...
        def can_post(self, user, target) -> bool: ...
        def group_for(self, target) -> Group | None: ...

    register_policy(Proposal, ProposalDiscussion())

Moderators, organisers and admins of ``group_for(target)`` (roles held there or on
an ancestor group) may remove and restore comments. A policy may define
``can_moderate(user, target)`` to decide that itself. A model without a registered
policy has no discussion: every check fails closed.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from django.db import models

from commonground.members.models import Group, Role

MODERATING_ROLES = frozenset({Role.MODERATOR, Role.ORGANISER, Role.ADMIN})


@runtime_checkable
class DiscussionPolicy(Protocol):
    def can_read(self, user: Any, target: Any) -> bool: ...

    def can_post(self, user: Any, target: Any) -> bool: ...

    def group_for(self, target: Any) -> Group | None: ...


class NoDiscussion(LookupError):
    """The target's model has no registered discussion policy."""


_policies: dict[str, DiscussionPolicy] = {}


def register_policy(model: type[models.Model], policy: DiscussionPolicy) -> None:
    """Allow discussions on ``model`` under ``policy`` (replaces an earlier one)."""
    if not isinstance(policy, DiscussionPolicy):
        raise TypeError("a discussion policy needs can_read, can_post and group_for")
    _policies[model._meta.label_lower] = policy


def unregister_policy(model: type[models.Model]) -> None:
    _policies.pop(model._meta.label_lower, None)


def has_policy(model: type[models.Model]) -> bool:
    return model._meta.label_lower in _policies


def policy_for(target: models.Model) -> DiscussionPolicy:
    try:
        return _policies[target._meta.label_lower]
    except KeyError:
        raise NoDiscussion(f"{target._meta.label} has no discussion") from None


def can_read(user: Any, target: models.Model) -> bool:
    return bool(policy_for(target).can_read(user, target))


def can_post(user: Any, target: models.Model) -> bool:
    if not user.is_authenticated or getattr(user, "deleted_at", None) is not None:
        return False
    policy = policy_for(target)
    return bool(policy.can_read(user, target) and policy.can_post(user, target))


def can_moderate(user: Any, target: models.Model) -> bool:
    """Moderators, organisers and admins of the target's group (subtree roles)."""
    if not user.is_authenticated:
        return False
    policy = policy_for(target)
    custom = getattr(policy, "can_moderate", None)
    if custom is not None:
        return bool(custom(user, target))
    group = policy.group_for(target)
    if group is None:
        return False
    from commonground.members.selectors import viewer_for

    return bool(viewer_for(user, group).roles & MODERATING_ROLES)
