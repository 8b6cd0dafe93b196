"""Watching a running site: request ids, one JSON log line per request, error reports.

Every request gets an id (a trusted proxy's ``X-Request-ID`` when it is well formed,
otherwise a new one), sent back in the ``X-Request-ID`` header and attached to every
log line written while the request runs, with the member's user id. JSON log lines
never carry ballot contents or personal data beyond that user id: the request line
names the URL *route* (``decisions/ballots/<int:pk>/vote/``), never the path or the
query string (which can hold tokens and search terms), Django's own request warnings
have their path replaced by the route, and extra fields pass only when they are
numbers or one of a few known names. Database errors lose their ``DETAIL`` lines,
which quote the values of the row. (The plain-text format, for development, keeps
messages as written.)

Errors go to a Sentry-compatible endpoint when ``SENTRY_DSN`` is set (``sentry_init``,
called by the settings): no request bodies, cookies, query strings, local variables or
SQL parameters ever leave the server, and the user is sent as an id only.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

request_logger = logging.getLogger("commonground.request")


@dataclass
class RequestContext:
    request_id: str
    request: HttpRequest | None = None


_current: ContextVar[RequestContext | None] = ContextVar(
    "commonground_request", default=None
)


def current_request_id() -> str | None:
    """The id of the request (or task) being served, for logs and error pages."""
    context = _current.get()
    return context.request_id if context is not None else None


def bind_request_id(request_id: str | None) -> Any:
    """Attach ``request_id`` to log lines from here on (Celery tasks); returns a token."""
    return _current.set(RequestContext(request_id or new_request_id()))


def unbind_request_id(token: Any) -> None:
    _current.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex


def _user_id(request: HttpRequest | None) -> int | None:
    """The signed-in member's id, without a query: only a user already loaded counts."""
    user = getattr(request, "_cached_user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return int(user.pk)
    return None


def _route(request: HttpRequest) -> str | None:
    match = getattr(request, "resolver_match", None)
    return getattr(match, "route", None) if match is not None else None


class RequestIdMiddleware:
    """The request id, the response header and one log line per request (outermost)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _INCOMING_ID.match(incoming) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current.set(RequestContext(request_id, request))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            match = getattr(request, "resolver_match", None)
            request_logger.info(
                "%s %s %s",
                request.method,
                _route(request) or "(no route)",
                response.status_code,
                extra={
                    "method": request.method,
                    "route": _route(request),
                    "view": getattr(match, "view_name", None),
                    "status_code": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _current.reset(token)


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` to every record, and hides request paths.

    Django's ``django.request`` and ``django.security`` warnings quote the request
    path ("Not Found: /accounts/password/reset/key/..."), which can hold a token:
    the JSON lines say the matched route instead, or ``[path withheld]``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        request = getattr(record, "request", None) or (
            context.request if context is not None else None
        )
        record.request_id = (
            context.request_id
            if context is not None
            else getattr(request, "request_id", None)  # logged after the middleware
        )
        record.user_id = _user_id(request if isinstance(request, HttpRequest) else None)
        if isinstance(getattr(record, "request", None), HttpRequest):
            # Not written back into msg/args: other handlers see the record unchanged.
            message = record.getMessage()
            path_request = record.request  # type: ignore[attr-defined]
            replacement = _route(path_request) or "[path withheld]"
            for path in (path_request.get_full_path(), path_request.path):
                message = message.replace(path, replacement)
            record.safe_message = message
        return True


# Extra fields that pass when they are strings; any other string extra is dropped.
_STRING_FIELDS = frozenset(
    {"method", "route", "view", "task", "task_id", "queue", "outcome", "check"}
)
_OUTPUT_FIELDS = ("timestamp", "level", "logger", "message", "request_id", "user_id")
_DATABASE_DETAIL = re.compile(r"^(DETAIL|HINT|CONTEXT):.*$", re.MULTILINE)


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line (python-json-logger), with an allow-list of fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", "timestamp")
        super().__init__(*args, **kwargs)

    def add_fields(
        self,
        log_data: dict[str, Any],
        record: logging.LogRecord,
        message_dict: dict[str, Any],
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = (
            getattr(record, "safe_message", None) or record.getMessage()
        )
        log_data.setdefault("request_id", getattr(record, "request_id", None))
        log_data.setdefault("user_id", getattr(record, "user_id", None))
        for key in list(log_data):
            value = log_data[key]
            if key in _OUTPUT_FIELDS or key in ("exc_info", "stack_info"):
                continue
            number = isinstance(value, int | float | bool) or value is None
            if not (number or (key in _STRING_FIELDS and isinstance(value, str))):
                del log_data[key]
        if "exc_info" in log_data:
            log_data["exc_info"] = _DATABASE_DETAIL.sub(
                "\\1: [withheld]", str(log_data["exc_info"])
            )


# --- Error reports (Sentry or any Sentry-compatible endpoint, e.g. GlitchTip) --------

_SAFE_HEADERS = frozenset({"User-Agent", "Content-Type", "Content-Length", "Host"})


def sentry_before_send(
    event: dict[str, Any], hint: dict[str, Any]
) -> dict[str, Any] | None:
    """Strip an event down to what cannot hold a ballot or personal data."""
    if str(event.get("logger", "")).startswith("django.") and not event.get(
        "exception"
    ):
        # "Service Unavailable: /path": a path can hold a token, and the error
        # itself is reported on its own (with its traceback and request id).
        return None
    request = event.get("request")
    if isinstance(request, dict):
        headers = request.get("headers") or {}
        event["request"] = {
            "method": request.get("method"),
            "url": str(request.get("url", "")).split("?", 1)[0],
            "headers": {k: v for k, v in headers.items() if k in _SAFE_HEADERS},
        }
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if user.get("id") else {}
    for frame_list in _stack_frames(event):
        for frame in frame_list:
            frame.pop("vars", None)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs["values"] = [
            crumb
            for crumb in breadcrumbs.get("values", [])
            if crumb.get("category") not in {"query", "http"}
        ]
    context = _current.get()
    if context is not None:
        event.setdefault("tags", {})["request_id"] = context.request_id
    return event


def _stack_frames(event: dict[str, Any]) -> list[list[dict[str, Any]]]:
    found = []
    for exception in (event.get("exception") or {}).get("values", []) or []:
        frames = (exception.get("stacktrace") or {}).get("frames")
        if frames:
            found.append(frames)
    for thread in (event.get("threads") or {}).get("values", []) or []:
        frames = (thread.get("stacktrace") or {}).get("frames")
        if frames:
            found.append(frames)
    return found


def sentry_init(
    dsn: str, *, environment: str = "production", release: str | None = None
) -> None:
    """Report errors (not performance traces) to ``dsn``; see ``sentry_before_send``."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        before_send=sentry_before_send,  # type: ignore[arg-type]
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(),
            LoggingIntegration(level=None, event_level=logging.ERROR),
        ],
    )
