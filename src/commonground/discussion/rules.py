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

Two more methods are optional:

- ``visitors_may_post(target) -> bool``: people without an account may comment,
  with a name and an email address they confirm by link (an article that allows
  it). Absent: only signed-in members post.
- ``comment_shown(comment, target, already_told) -> set[int]``: called in the
  transaction when a comment becomes visible to readers (posted by a member,
  confirmed by a visitor, approved by a moderator), so the target's app can tell
  whom it wants (an article's author and editors), skipping the member ids in
  ``already_told``; it returns the ids it told, whom the followers' notice skips.
- ``thread_changed(target)``: what readers see of the thread changed (a comment
  shown, removed, hidden, restored, a visitor's name erased), for an app that caches
  the target's page.
- ``moderating_role(user, target) -> str``: the role a moderator acts in, for the
  public moderation log (default: their moderator, editor, organiser or admin role
  on the target's group).
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


def visitors_may_post(target: models.Model) -> bool:
    """Whether someone without an account may comment on ``target`` (with a name and
    a confirmed email address): the rule must say so, and anyone must be able to
    read the thread."""
    from django.contrib.auth.models import AnonymousUser

    rule = rule_for(target)
    allows = getattr(rule, "visitors_may_post", None)
    return bool(
        allows is not None and allows(target) and rule.can_read(AnonymousUser(), target)
    )


def moderating_role(user: Any, target: models.Model) -> str:
    """The role ``user`` moderates ``target`` in, for the public moderation log: the
    first of moderator, editor, organiser, admin they hold on the target's group, or
    what the rule's ``moderating_role`` says."""
    rule = rule_for(target)
    custom = getattr(rule, "moderating_role", None)
    if custom is not None:
        return str(custom(user, target))
    group = rule.group_for(target)
    if group is None or not user.is_authenticated:
        return ""
    from commonground.members.selectors import viewer_for

    roles = viewer_for(user, group).roles
    for role in (Role.MODERATOR, Role.EDITOR, Role.ORGANISER, Role.ADMIN):
        if role in roles:
            return str(role)
    return ""


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
