"""URLs of the pages core serves itself (the member dashboard, the style guide), the
health checks and the (protected) Prometheus metrics."""

from django.urls import path

from . import metrics, views

app_name = "core"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("styleguide/", views.styleguide, name="styleguide"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
]
