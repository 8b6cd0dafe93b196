"""URLs of threads, comment actions and the moderation queue."""

from django.urls import path

from . import views

app_name = "discussion"
urlpatterns = [
    path("on/<str:key>/<str:object_id>/", views.thread, name="thread"),
    path("groups/<slug:slug>/moderation/", views.moderation_queue, name="moderation"),
    path(
        "comments/<int:comment_id>/<str:action>/",
        views.comment_action,
        name="comment_action",
    ),
]
