"""Run one member action from a view: the service call, its message, the redirect.

Core sits on floor 0, so the refusal types and where to go next come from the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext


@dataclass(frozen=True)
class RefusalPage:
    """A page shown (403) instead of the redirect when the action is not permitted.

    The template gets ``message`` (the refusal's text) and ``back`` (a link back).
    """

    template: str
    back: str


def form_errors(
    form: Any, error: ValidationError, *, default_field: str | None = None
) -> None:
    """Put a service's ValidationError on the form: each message on its field when
    the form has one, else on ``default_field`` (``None``: the whole form)."""
    if not hasattr(error, "error_dict"):
        form.add_error(default_field, error.messages)
        return
    for name, errors in error.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def refusal_message(error: Exception) -> str:
    """The text a member reads for a refused action."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or gettext("You cannot do this.")


def run_action(
    request: HttpRequest,
    action: Callable[[], object],
    *,
    success_message: str | None,
    redirect_to: str,
    refusals: tuple[type[Exception], ...] = (PermissionDenied, ValidationError),
    forbidden_page: RefusalPage | None = None,
) -> HttpResponse:
    """Call ``action`` and redirect to ``redirect_to`` (a URL) with a message.

    Success shows ``success_message`` (none when it is ``None``). An exception of one of
    the ``refusals`` types shows its text as an error message instead, except that a
    ``PermissionDenied`` renders ``forbidden_page`` with status 403 when one is given.
    Any other exception propagates.
    """
    try:
        action()
    except refusals as error:
        if forbidden_page is not None and isinstance(error, PermissionDenied):
            return render(
                request,
                forbidden_page.template,
                {"message": str(error), "back": forbidden_page.back},
                status=403,
            )
        messages.error(request, refusal_message(error))
    else:
        if success_message is not None:
            messages.success(request, success_message)
    return redirect(redirect_to)
