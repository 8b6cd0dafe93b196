"""URLs of the newsletters app (mounted at /newsletters/).

Organiser pages sit under ``groups/<slug>/`` so a group's organisation branding
applies to them (see ``members.context_processors``); the links in emails (web
version, one-click unsubscribe) and the bounce webhook need no sign-in.
"""

from django.urls import path

from . import views

app_name = "newsletters"

_ONE = "groups/<slug:slug>/<int:newsletter_id>/"

urlpatterns = [
    path("groups/<slug:slug>/", views.group_newsletters, name="group_newsletters"),
    path("groups/<slug:slug>/new/", views.newsletter_new, name="new"),
    path("groups/<slug:slug>/audience/", views.audience_count, name="audience"),
    path(_ONE, views.newsletter_detail, name="detail"),
    path(_ONE + "edit/", views.newsletter_edit, name="edit"),
    path(_ONE + "test/", views.newsletter_test, name="test"),
    path(_ONE + "schedule/", views.newsletter_schedule, name="schedule"),
    path(_ONE + "unschedule/", views.newsletter_unschedule, name="unschedule"),
    path(_ONE + "cancel/", views.newsletter_cancel, name="cancel"),
    path(_ONE + "report/", views.newsletter_report, name="report"),
    path(_ONE + "web/", views.newsletter_online, name="online"),
    path("read/<str:token>/", views.newsletter_read, name="read"),
    path(
        "unsubscribe/<int:recipient_id>/<str:token>/",
        views.unsubscribe,
        name="unsubscribe",
    ),
    path(
        "resubscribe/<int:recipient_id>/<str:token>/",
        views.resubscribe,
        name="resubscribe",
    ),
    path("bounces/", views.bounce_webhook, name="bounces"),
]
