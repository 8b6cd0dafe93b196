from django.contrib import admin
from django.urls import include, path

from commonground.core import views as core_views

urlpatterns = [
    path("", include("commonground.core.urls")),
    path("", include("commonground.members.urls")),
    path("discussion/", include("commonground.discussion.urls")),
    path("decisions/", include("commonground.decisions.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

handler500 = core_views.server_error
