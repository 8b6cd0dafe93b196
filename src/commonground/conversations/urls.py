"""URLs of the conversations app (mounted at /conversations/)."""

from django.urls import path

from . import views

app_name = "conversations"

urlpatterns = [
    path("groups/<slug:slug>/", views.group_conversations, name="group"),
    path("groups/<slug:slug>/new/", views.conversation_new, name="new"),
    path("groups/<slug:slug>/import/", views.conversation_import, name="import"),
    path("<int:pk>/", views.conversation_detail, name="detail"),
    path("<int:pk>/vote/", views.vote, name="vote"),
    path("<int:pk>/statements/", views.statement_new, name="statement_new"),
    path("<int:pk>/map/", views.conversation_map, name="map"),
    path("<int:pk>/settings/", views.conversation_edit, name="edit"),
    path("<int:pk>/close/", views.conversation_close, name="close"),
    path("<int:pk>/moderation/", views.moderation_queue, name="moderation"),
    path("<int:pk>/opendata.zip", views.conversation_export, name="export"),
    path(
        "statements/<int:pk>/moderate/",
        views.statement_moderate,
        name="statement_moderate",
    ),
    path(
        "statements/<int:pk>/report/", views.statement_report, name="statement_report"
    ),
    path(
        "statements/<int:pk>/propose/",
        views.statement_propose,
        name="statement_propose",
    ),
]
