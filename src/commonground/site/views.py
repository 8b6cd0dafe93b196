"""The public home page: the organisations on this platform and their top groups."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from commonground.members.selectors import organisations_with_groups


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request, "site/home.html", {"organisations": organisations_with_groups()}
    )
