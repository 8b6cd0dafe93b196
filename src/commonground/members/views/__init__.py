"""Thin views: parse input, call one service or selector, render.

Modules: ``pages`` (group pages, organiser tools, the member's own account) and
``setup`` (first run, and organisers shaping the group tree).
"""

from .pages import (
    account_delete,
    account_export,
    group_detail,
    group_directory,
    group_join,
    group_leave,
    group_log,
    group_manage,
    group_members,
    group_settings,
    membership_action,
    organisation_brand_css,
    organisation_settings,
    profile,
    role_assign,
    role_revoke,
)
from .setup import (
    first_run,
    group_add,
    group_archive,
    group_move,
    group_rename,
    group_structure,
    group_tree,
)
from .verification import (
    group_verification,
    invitation_claim,
    invitation_resend,
    invitations,
    member_verify,
    verification_letters,
    verification_method,
    verify_code,
)

__all__ = [
    "group_verification",
    "invitation_claim",
    "invitation_resend",
    "invitations",
    "member_verify",
    "verification_letters",
    "verification_method",
    "verify_code",
    "first_run",
    "group_add",
    "group_archive",
    "group_move",
    "group_rename",
    "group_structure",
    "group_tree",
    "group_directory",
    "group_detail",
    "group_members",
    "group_join",
    "group_leave",
    "group_manage",
    "membership_action",
    "role_assign",
    "role_revoke",
    "group_settings",
    "group_log",
    "profile",
    "account_export",
    "account_delete",
    "organisation_settings",
    "organisation_brand_css",
]
