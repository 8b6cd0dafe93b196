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
    path("confirm/<str:token>/", views.visitor_confirm, name="visitor_confirm"),
    path(
        "replies/stop/<str:token>/",
        views.visitor_unsubscribe,
        name="visitor_unsubscribe",
    ),
    path("my-comments/", views.visitor_data_request, name="visitor_data_request"),
    path("my-comments/<str:token>/", views.visitor_data, name="visitor_data"),
]
