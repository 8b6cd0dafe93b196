"""Production settings: the development settings with every deployment hardening on.

Required environment: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL.
Recommended: REDIS_URL (shared cache for rate limits, Celery broker), EMAIL_HOST & co.

Uploaded media (organisations' logos) live in DJANGO_MEDIA_ROOT and are NOT served by
Django or whitenoise in production: the web server serves MEDIA_URL from that
directory, e.g. for nginx ``location /media/ { alias /srv/commonground/media/;
add_header X-Content-Type-Options nosniff; }``, and caps request bodies a little above
the logo limit (``client_max_body_size 3m;``). Logos are re-encoded PNGs with
content-hashed names, so they can be cached for a long time. With several web
processes on different hosts, DJANGO_MEDIA_ROOT must be shared storage.
``manage.py check --deploy --fail-level WARNING`` passes with these settings.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import env_bool

DEBUG = False
if not os.environ.get("DJANGO_SECRET_KEY"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
BALLOT_SECRET_KEY = os.environ.get("COMMONGROUND_BALLOT_KEY", SECRET_KEY)

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The documented shape is gunicorn behind one TLS-terminating proxy: rate limits take
# the client's address from the last X-Forwarded-For entry (core.clientip).
COMMONGROUND_TRUSTED_PROXIES = int(os.environ.get("COMMONGROUND_TRUSTED_PROXIES", "1"))
ALLAUTH_TRUSTED_PROXY_COUNT = COMMONGROUND_TRUSTED_PROXIES
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# htmx and forms take the token from the page, never from the cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# JSON log lines (core.observability) unless LOG_FORMAT=text, and one line per request.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
LOGGING["handlers"]["console"]["formatter"] = (  # noqa: F405
    "json" if LOG_FORMAT == "json" else "text"
)
LOGGING["loggers"]["commonground.request"]["level"] = os.environ.get(  # noqa: F405
    "REQUEST_LOG_LEVEL", "INFO"
)
