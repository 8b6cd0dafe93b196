"""Django settings, read from the environment (12-factor) with safe development defaults.

Development (the default): SQLite in ``var/``, email to the console, Celery tasks run
eagerly, DEBUG on. Production: ``commonground.site.settings_production`` turns on every
deployment hardening and requires ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` and
``DATABASE_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent  # src/commonground
PROJECT_DIR = Path(os.environ.get("COMMONGROUND_HOME", Path.cwd()))
VAR_DIR = PROJECT_DIR / "var"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY",
    "development-only-key-never-used-in-production-0123456789abcdef",
)
# The ballot pseudonym key (a keyed hash links member and ballot for re-voting).
BALLOT_SECRET_KEY = os.environ.get("COMMONGROUND_BALLOT_KEY", SECRET_KEY)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "commonground.core",
    "commonground.audit",
    "commonground.notifications",
    "commonground.members",
    "commonground.discussion",
    "commonground.onboarding",
    "commonground.newsletters",
    "commonground.publishing",
    "commonground.decisions",
    "commonground.conversations",
    "commonground.assemblies",
    "commonground.site",
]

MIDDLEWARE = [
    # Observability first: every response carries a request id and is measured, and a
    # lost database connection becomes a "try again" page (core.observability,
    # core.metrics, core.outages).
    "commonground.core.observability.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "commonground.core.outages.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "commonground.core.middleware.SessionLifetimeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After CSRF and authentication: counts per member, and not CSRF-refused writes.
    "commonground.core.middleware.WriteThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "commonground.members.middleware.AdminRequiresMFAMiddleware",
    # After AuthenticationMiddleware: reads the member's chosen zone.
    "commonground.members.middleware.TimeZoneMiddleware",
    "commonground.core.metrics.CastMetricsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "commonground.site.urls"
WSGI_APPLICATION = "commonground.site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "commonground.members.context_processors.branding",
            ],
        },
    }
]

# Database: DATABASE_URL wins; otherwise SQLite in var/ (the one-command demo).
_default_sqlite = f"sqlite:///{VAR_DIR / 'commonground.sqlite3'}"
if "DATABASE_URL" not in os.environ:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions avoid "database is locked" when a read upgrades to a
    # write; WAL lets readers proceed during writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if env_bool("DATABASE_TRANSACTION_POOLING", False):
    # Behind PgBouncer in transaction mode (docs/deploy.md): no server-side cursors
    # and no prepared statements, which would outlive the pooled transaction.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_redis_url = os.environ.get("REDIS_URL", "")
if _redis_url:
    CACHES = {
        "default": {
            # Django's RedisCache, keeping one client per pool (core.cache).
            "BACKEND": "commonground.core.cache.RedisCache",
            "LOCATION": _redis_url,
        }
    }
    # Sessions live in Redis: with SESSION_SAVE_EVERY_REQUEST (the idle timeout) a
    # database store would cost a write on every request. Account deletion still ends
    # every session: the password hash the session is bound to is gone. An unchanged
    # session is refreshed with one EXPIRE rather than rewritten (core.sessions).
    SESSION_ENGINE = "commonground.core.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "commonground.core.passwords.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Sessions: 30 minutes idle, 12 hours absolute (enforced by SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_LIFETIME = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = False

# Accounts (django-allauth).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Common Ground] "
# Failed logins: 10 a minute per client address, and 5 in 5 minutes per account
# from one address; 5 in 5 minutes per account from all addresses together, except
# that this last limit never locks out an account with a second factor: its owner
# signs in with the password and the second factor whatever others tried
# (core.accounts.AccountAdapter; docs/reliability.md).
ACCOUNT_ADAPTER = "commonground.core.accounts.AccountAdapter"
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/300s/key",
    "login_failed_account": "5/300s/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
ACCOUNT_SIGNUP_FORM_CLASS = "commonground.members.forms.SignupDetailsForm"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Common Ground"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGIN_URL = "account_login"
LOGOUT_REDIRECT_URL = "home"
AUTH_USER_MODEL = "members.User"

# Email: console in development, SMTP from the environment in production.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Common Ground <noreply@localhost>"
)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Security headers that hold in every environment (production adds HTTPS-only ones).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # The web app manifest and the service worker (/sw.js), said explicitly
        # rather than left to the default-src fallback.
        "manifest-src": ["'self'"],
        "worker-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Uploaded files (organisations' logos). In development Django serves MEDIA_URL
# (site/urls.py, DEBUG only); in production the web server does (settings_production).
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
# Uploads above this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_PERMISSIONS = 0o644
# A logo is refused above this many bytes, or above this many pixels on a side.
COMMONGROUND_LOGO_MAX_BYTES = 2 * 1024 * 1024
COMMONGROUND_LOGO_MAX_SIDE = 4000
# Writes per minute per signed-in member, or per client address for visitors, before
# 429 (0 = off, e.g. for a load test on loopback).
WRITE_THROTTLE_PER_MINUTE = int(os.environ.get("COMMONGROUND_WRITE_THROTTLE", "100"))
# Reverse proxies in front of the application that append the client's address to
# X-Forwarded-For (0: none, clients connect directly). Rate limits read the client
# address from that header through core.clientip; allauth is told the same number.
COMMONGROUND_TRUSTED_PROXIES = int(os.environ.get("COMMONGROUND_TRUSTED_PROXIES", "0"))
ALLAUTH_TRUSTED_PROXY_COUNT = COMMONGROUND_TRUSTED_PROXIES

# Celery: Redis in production; eager (in-process) when no broker is configured.
CELERY_BROKER_URL = os.environ.get(
    "CELERY_BROKER_URL", _redis_url or "memory://localhost/"
)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not _redis_url)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = TIME_ZONE
# Periodic work (run by `celery -A commonground.site worker --beat`). Every task is
# idempotent and nothing correctness-critical waits for it: a ballot's state follows
# from its times, casting seals a due election and the results page counts a closed one.
CELERY_BEAT_SCHEDULE = {
    "decisions-sweep": {"task": "decisions.sweep", "schedule": 60.0},
    # Casts wake the sender themselves; this sends what a lost wake-up left behind.
    "decisions-cast-receipts": {
        "task": "decisions.send_cast_receipts",
        "schedule": 60.0,
    },
    "notifications-daily-digest": {
        "task": "notifications.send_daily_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    "notifications-weekly-digest": {
        "task": "notifications.send_weekly_digests",
        "schedule": crontab(hour=7, minute=30, day_of_week=1),
    },
    "newsletters-sweep": {"task": "newsletters.sweep", "schedule": 60.0},
    "conversations-sweep": {"task": "conversations.sweep", "schedule": 60.0},
}
# Conversations: a vote queues at most one opinion-map refresh per this many seconds.
CONVERSATION_MAP_DEBOUNCE_SECONDS = float(
    os.environ.get("COMMONGROUND_MAP_DEBOUNCE", "2")
)
# Newsletters: emails per second the mail server accepts (0: no limit), recipients
# per chunk task, and the HMAC secret of the bounce webhook (unset: it refuses all).
NEWSLETTER_SEND_RATE = float(os.environ.get("COMMONGROUND_NEWSLETTER_RATE", "10"))
NEWSLETTER_BATCH_SIZE = int(os.environ.get("COMMONGROUND_NEWSLETTER_BATCH", "200"))
BOUNCE_WEBHOOK_SECRET = os.environ.get("COMMONGROUND_BOUNCE_SECRET", "")
# Visitors' comments (no account), once their address is confirmed: "first" holds a
# first comment from an address for a moderator, "all" holds every one, "none" none.
COMMONGROUND_VISITOR_HOLD = os.environ.get("COMMONGROUND_VISITOR_HOLD", "first")

# Absolute links in emails ("https://members.example.org"); site-relative without it.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
# The installer's proof on a server's first run (see members.views.setup.first_run).
SETUP_TOKEN = os.environ.get("COMMONGROUND_SETUP_TOKEN", "")

# Logs: one JSON object per line with the request id and user id (LOG_FORMAT=json,
# the production default) or plain text; never ballot contents or personal data
# (core.observability). One line per request from commonground.request at INFO.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {
            "()": "commonground.core.observability.RequestContextFilter"
        }
    },
    "formatters": {
        "json": {"()": "commonground.core.observability.JsonFormatter"},
        "text": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_context"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "commonground.request": {
            "level": os.environ.get(
                "REQUEST_LOG_LEVEL", "INFO" if not DEBUG else "WARNING"
            )
        }
    },
}

# Metrics (core.metrics): /metrics answers 404 unless a bearer token or allowed
# networks (comma-separated CIDRs) are set; the scraper must meet each one set.
METRICS_TOKEN = os.environ.get("COMMONGROUND_METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_list("COMMONGROUND_METRICS_ALLOWED_NETWORKS")
METRICS_CAST_VIEWS = ["decisions:election_vote"]
METRICS_COUNT_TASKS = ["decisions.count_election"]
METRICS_QUEUES = env_list("COMMONGROUND_METRICS_QUEUES", "celery")
# The worker loads the task metrics (durations) and request-id propagation.
CELERY_IMPORTS = ["commonground.core.metrics"]

# Error reports to Sentry or a Sentry-compatible service (GlitchTip, ...) when set.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from commonground.core.observability import sentry_init

    sentry_init(
        SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        release=os.environ.get("SENTRY_RELEASE") or None,
    )
