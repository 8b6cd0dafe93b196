"""A discussion policy on groups, for testing the discussion app on its own.

Real targets (proposals, hustings, articles) register their own policies; here a
group is the target: members of a public group's subtree read and post.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from commonground.discussion import rules
from commonground.members.models import Group
from commonground.members.selectors import viewer_for


class GroupDiscussion:
    def can_read(self, user, target):
        return target.is_public or viewer_for(user, target).is_member

    def can_post(self, user, target):
        return viewer_for(user, target).is_member

    def group_for(self, target):
        return target


@pytest.fixture(autouse=True)
def group_discussion_policy():
    rules.register_rule(Group, GroupDiscussion())
    cache.clear()
    yield
    rules.unregister_rule(Group)
    cache.clear()
