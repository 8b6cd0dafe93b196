"""URLs of the notification centre, preferences, follows and one-click unsubscribe."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.centre, name="centre"),
    path("notifications/badge/", views.badge, name="badge"),
    path("notifications/read-all/", views.mark_all_read, name="mark_all_read"),
    path(
        "notifications/<int:notification_id>/read/", views.mark_read, name="mark_read"
    ),
    path("notifications/preferences/", views.preferences, name="preferences"),
    path(
        "notifications/follow/<int:content_type_id>/<int:object_id>/",
        views.follow,
        name="follow",
    ),
    path("n/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
