"""Every state change of members, groups and roles, by workflow.

Each function is atomic: it checks permission, writes, and appends the audit
entry in the same transaction, so an action is never half-done or unlogged.
Modules: ``memberships`` (joining, leaving, organisers' decisions, roles),
``groups`` (creating and changing groups), ``accounts`` (a member's own account),
``branding`` (an organisation's logo and colour), ``enrolment`` (many members at
once, from an organisation's register; runs inside the caller's transaction).
"""

from .accounts import (
    account_delete,
    account_export,
    email_bounce_clear,
    email_bounce_record,
    profile_update,
)
from .branding import organisation_branding_update
from .enrolment import (
    EnrolLine,
    EnrolmentDirectory,
    EnrolOutcome,
    EnrolResult,
    EnrolRow,
    enrolment_accounts,
    enrolment_directory,
    members_enrol,
    members_enrol_plan,
)
from .groups import (
    group_archive,
    group_create,
    group_move,
    group_rename,
    group_settings_update,
    group_unarchive,
)
from .invitations import (
    invitation_claim,
    invitation_from_token,
    invitation_resend,
    invitations_send,
)
from .memberships import (
    membership_approve,
    membership_decline,
    membership_join,
    membership_lapse,
    membership_leave,
    membership_reinstate,
    membership_suspend,
    role_assign,
    role_grant_founding_admin,
    role_revoke,
)
from .setup import SetUp, site_is_empty, site_setup
from .tree import TreePlan, group_tree_apply, group_tree_plan
from .verification import (
    Letter,
    member_verify,
    organisation_verification_set,
    verification_code_redeem,
    verification_letters_issue,
)

__all__ = [
    "EnrolLine",
    "EnrolOutcome",
    "EnrolResult",
    "EnrolRow",
    "EnrolmentDirectory",
    "account_delete",
    "account_export",
    "email_bounce_clear",
    "email_bounce_record",
    "enrolment_accounts",
    "enrolment_directory",
    "Letter",
    "SetUp",
    "TreePlan",
    "group_archive",
    "group_create",
    "group_move",
    "group_rename",
    "group_tree_apply",
    "group_tree_plan",
    "group_unarchive",
    "invitation_claim",
    "invitation_from_token",
    "invitation_resend",
    "invitations_send",
    "member_verify",
    "organisation_verification_set",
    "verification_code_redeem",
    "verification_letters_issue",
    "group_settings_update",
    "membership_approve",
    "membership_decline",
    "membership_join",
    "membership_lapse",
    "membership_leave",
    "membership_reinstate",
    "members_enrol",
    "members_enrol_plan",
    "membership_suspend",
    "organisation_branding_update",
    "profile_update",
    "role_assign",
    "role_grant_founding_admin",
    "role_revoke",
    "site_is_empty",
    "site_setup",
]
