"""URLs of group pages, organiser tools and the member's own account pages."""

from django.urls import path

from . import views

app_name = "members"
urlpatterns = [
    path("groups/", views.group_directory, name="directory"),
    path("groups/<slug:slug>/", views.group_detail, name="group"),
    path("groups/<slug:slug>/members/", views.group_members, name="group_members"),
    path("groups/<slug:slug>/join/", views.group_join, name="group_join"),
    path("groups/<slug:slug>/leave/", views.group_leave, name="group_leave"),
    path("groups/<slug:slug>/manage/", views.group_manage, name="group_manage"),
    path(
        "groups/<slug:slug>/manage/memberships/<int:membership_id>/<str:action>/",
        views.membership_action,
        name="membership_action",
    ),
    path("groups/<slug:slug>/manage/roles/", views.role_assign, name="role_assign"),
    path(
        "groups/<slug:slug>/manage/roles/<int:assignment_id>/revoke/",
        views.role_revoke,
        name="role_revoke",
    ),
    path(
        "groups/<slug:slug>/manage/settings/",
        views.group_settings,
        name="group_settings",
    ),
    path("groups/<slug:slug>/log/", views.group_log, name="group_log"),
    path(
        "groups/<slug:slug>/manage/structure/",
        views.group_structure,
        name="group_structure",
    ),
    path("groups/<slug:slug>/manage/structure/add/", views.group_add, name="group_add"),
    path(
        "groups/<slug:slug>/manage/structure/rename/",
        views.group_rename,
        name="group_rename",
    ),
    path(
        "groups/<slug:slug>/manage/structure/move/", views.group_move, name="group_move"
    ),
    path(
        "groups/<slug:slug>/manage/structure/archive/",
        views.group_archive,
        name="group_archive",
    ),
    path(
        "groups/<slug:slug>/manage/structure/tree/", views.group_tree, name="group_tree"
    ),
    path("setup/", views.first_run, name="setup"),
    path(
        "groups/<slug:slug>/manage/verification/",
        views.group_verification,
        name="group_verification",
    ),
    path(
        "groups/<slug:slug>/manage/verification/method/",
        views.verification_method,
        name="verification_method",
    ),
    path(
        "groups/<slug:slug>/manage/verification/letters/",
        views.verification_letters,
        name="verification_letters",
    ),
    path(
        "groups/<slug:slug>/manage/verification/<int:user_id>/",
        views.member_verify,
        name="member_verify",
    ),
    path("me/verify/", views.verify_code, name="verify_code"),
    path(
        "organisations/<slug:org_slug>/invitations/",
        views.invitations,
        name="invitations",
    ),
    path(
        "organisations/<slug:org_slug>/invitations/<int:invitation_id>/resend/",
        views.invitation_resend,
        name="invitation_resend",
    ),
    path("invite/<str:token>/", views.invitation_claim, name="invitation_claim"),
    path("me/", views.profile, name="profile"),
    path("me/export/", views.account_export, name="account_export"),
    path("me/delete/", views.account_delete, name="account_delete"),
    path(
        "organisations/<slug:org_slug>/settings/",
        views.organisation_settings,
        name="organisation_settings",
    ),
    path(
        "organisations/<slug:org_slug>/brand.css",
        views.organisation_brand_css,
        name="organisation_brand_css",
    ),
]
