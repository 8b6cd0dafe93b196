"""The root URL configuration: the home page, then each app's URLs."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from commonground.core import views as core_views
from commonground.core.accounts import RateLimitedLoginView

from . import views as site_views

urlpatterns = [
    path("", site_views.home, name="home"),
    path("manifest.webmanifest", site_views.manifest, name="pwa_manifest"),
    path("sw.js", site_views.service_worker, name="pwa_service_worker"),
    path("offline/", site_views.offline, name="pwa_offline"),
    path("", include("commonground.core.urls")),
    path("", include("commonground.members.urls")),
    path("discussion/", include("commonground.discussion.urls")),
    path("decisions/", include("commonground.decisions.urls")),
    path("onboarding/", include("commonground.onboarding.urls")),
    path("newsletters/", include("commonground.newsletters.urls")),
    path("conversations/", include("commonground.conversations.urls")),
    path("assemblies/", include("commonground.assemblies.urls")),
    path("", include("commonground.publishing.urls")),
    path("", include("commonground.notifications.urls")),
    path("accounts/login/", RateLimitedLoginView.as_view(), name="account_login"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
# Uploaded logos in development (static() adds nothing when DEBUG is off; in
# production the web server serves MEDIA_URL, see settings_production).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler429 = core_views.too_many_requests  # allauth's rate limits use it
handler500 = core_views.server_error
