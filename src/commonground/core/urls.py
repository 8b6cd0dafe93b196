"""URLs of the pages core serves itself (the member dashboard, the style guide)."""

from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("styleguide/", views.styleguide, name="styleguide"),
]
