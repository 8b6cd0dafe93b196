"""How a decisions view hands what a member submitted to a service: the refusals shown
as messages, and a service's ValidationError put next to the form fields it names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from commonground.core.actions import run_action

from .. import services

T = TypeVar("T")

REFUSALS: tuple[type[Exception], ...] = (
    PermissionDenied,
    ValidationError,
    services.DecisionRefused,
)
"""What a decisions service raises to refuse an action; shown to the member as a message."""


def run_form_action(
    request: HttpRequest,
    form: forms.Form,
    action: Callable[[dict[str, Any]], object],
    *,
    invalid_message: str,
    success_message: str,
    redirect_to: str,
) -> HttpResponse:
    """A small posted form that triggers one service call, then back to ``redirect_to``.

    An invalid form shows ``invalid_message``; a valid one calls ``action`` with the
    cleaned data through ``run_action`` (success or refusal as a message).
    """
    if not form.is_valid():
        messages.error(request, invalid_message)
        return redirect(redirect_to)
    return run_action(
        request,
        lambda: action(form.cleaned_data),
        success_message=success_message,
        redirect_to=redirect_to,
        refusals=REFUSALS,
    )


def result_or_form_errors(form: forms.Form, call: Callable[[], T]) -> T | None:
    """What ``call`` returns, or ``None`` once its ValidationError is on the form."""
    try:
        return call()
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            form.add_error(None, error.messages)
            return None
        for field_name, errors in error.message_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
        return None
