"""Who may read, post and moderate a discussion: decided by the target's own app.

The discussion app knows nothing about proposals, hustings or articles. The app that
owns a target model names a rule for it in its capability entry (see
``commonground.core.capabilities``)::

    class ProposalDiscussion:
        def can_read(self, user, target) -> bool: ...
        def can_post(self, user, target) -> bool: ...
        def group_for(self, target) -> Group | None: ...

    register(Capability(..., discussion_rules={Proposal: ProposalDiscussion()}))

Moderators, organisers and admins of ``group_for(target)`` (roles held there or on
an ancestor group) may remove and restore comments. A rule may define
``can_moderate(user, target)`` to decide that itself. A model without a rule has no
discussion: every check fails closed.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from django.db import models

from commonground.core.capabilities import (
    Capability,
    discussion_rule_for,
    register,
    unregister,
)
from commonground.members.models import Group, Role

MODERATING_ROLES = frozenset({Role.MODERATOR, Role.ORGANISER, Role.ADMIN})


@runtime_checkable
class DiscussionRule(Protocol):
    def can_read(self, user: Any, target: Any) -> bool: ...

    def can_post(self, user: Any, target: Any) -> bool: ...

    def group_for(self, target: Any) -> Group | None: ...


class NoDiscussion(LookupError):
    """The target's model has no discussion rule."""


def _check(rule: Any) -> DiscussionRule:
    if not isinstance(rule, DiscussionRule):
        raise TypeError("a discussion rule needs can_read, can_post and group_for")
    return rule


_EXTRA = "discussion-rule:"  # the app name of a rule registered outside any app


def register_rule(model: type[models.Model], rule: DiscussionRule) -> None:
    """Allow discussions on ``model`` under ``rule`` outside any app (tests, scripts).

    Apps name their rules in their capability entry instead.
    """
    label = model._meta.label_lower
    register(Capability(app=f"{_EXTRA}{label}", discussion_rules={model: _check(rule)}))


def unregister_rule(model: type[models.Model]) -> None:
    unregister(f"{_EXTRA}{model._meta.label_lower}")


def has_rule(model: type[models.Model]) -> bool:
    return discussion_rule_for(model._meta.label_lower) is not None


def rule_for(target: models.Model) -> DiscussionRule:
    rule = discussion_rule_for(target._meta.label_lower)
    if rule is None:
        raise NoDiscussion(f"{target._meta.label} has no discussion")
    return _check(rule)


def can_read(user: Any, target: models.Model) -> bool:
    return bool(rule_for(target).can_read(user, target))


def can_post(user: Any, target: models.Model) -> bool:
    if not user.is_authenticated or getattr(user, "deleted_at", None) is not None:
        return False
    rule = rule_for(target)
    return bool(rule.can_read(user, target) and rule.can_post(user, target))


def can_moderate(user: Any, target: models.Model) -> bool:
    """Moderators, organisers and admins of the target's group (subtree roles)."""
    if not user.is_authenticated:
        return False
    rule = rule_for(target)
    custom = getattr(rule, "can_moderate", None)
    if custom is not None:
        return bool(custom(user, target))
    group = rule.group_for(target)
    if group is None:
        return False
    from commonground.members.selectors import viewer_for

    return bool(viewer_for(user, group).roles & MODERATING_ROLES)


def can_moderate_group(viewer: Any) -> bool:
    """Whether a viewer of a group (``members.selectors.Viewer``) moderates there."""
    return bool(viewer.roles & MODERATING_ROLES)
