"""Published results once voting has closed: the results page and the files anyone can
download to check the count (ballots, result, trackers, definition, hashes)."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .. import papers, selectors, services, tally_adapter
from ..models import Election
from .lookups import election_for_viewer


def _counted(election: Election) -> Any:
    """The published result, counting it now if voting has closed and nobody has yet.

    The count runs in this request (the engine is fast, and counting is idempotent:
    a second viewer gets the stored result), so the page is right whether or not a
    worker is running. A refused count (the definition no longer matches its seal)
    publishes nothing; the refusal is in the audit log and the page says so.
    """
    if election.phase_at(timezone.now()) != "closed":
        return None
    result = selectors.published_result(election)
    if result is None:
        try:
            services.election_count(election_id=election.pk)
        except services.IntegrityMismatch:
            return None
        result = selectors.published_result(election)
    return result


@never_cache
def election_results(request: HttpRequest, pk: int) -> HttpResponse:
    election, viewer = election_for_viewer(request, pk)
    result = _counted(election)
    if result is None:
        return render(
            request,
            "decisions/results_pending.html",
            {
                "election": election,
                "viewer": viewer,
                "page": selectors.election_page(election, request.user),
                "refused": selectors.count_refused(election),
            },
            status=404 if election.phase_at(timezone.now()) != "closed" else 202,
        )
    view = selectors.results_view(result)
    return render(
        request,
        "decisions/results.html",
        {
            "election": election,
            "viewer": viewer,
            "view": view,
            "seal": election.seal,
            "trackers": selectors.published_trackers(result),
            "ballots": selectors.readable_ballots(result),
            "chart": view.chart,
            # Each round's cells beside their candidate: the table stacks on phones,
            # every cell labelled with its column.
            "round_rows": [
                {
                    **row,
                    "labelled_cells": list(
                        zip(view.candidates, row["cells"], strict=True)
                    ),
                }
                for row in view.rounds
            ],
        },
    )


DOWNLOADS = {
    "ballots.blt": "text/plain; charset=utf-8",
    "ballots.csv": "text/csv; charset=utf-8",
    "summary-rctab.json": "application/json",
    "result.json": "application/json",
    "trackers.txt": "text/plain; charset=utf-8",
    "definition.json": "application/json",
    "hashes.txt": "text/plain; charset=utf-8",
}


def election_download(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    election, _ = election_for_viewer(request, pk)
    if name not in DOWNLOADS:
        raise Http404("No such file")
    if name == "definition.json":
        seal = getattr(election, "seal", None)
        if seal is None:
            raise Http404("Not sealed yet")
        body = seal.definition_json
    else:
        result = _counted(election)
        if result is None:
            raise Http404("Results are published after voting closes")
        body = _download_body(election, result, name)
        if body is None:
            raise Http404("This file does not exist for this counting method")
    response = HttpResponse(body, content_type=DOWNLOADS[name])
    response["Content-Disposition"] = (
        f'attachment; filename="ballot-{election.pk}-{name}"'
    )
    return response


def _download_body(election: Election, result: Any, name: str) -> str | None:
    papers_list = selectors.published_ballots(result)
    candidates = result.engine_input["candidates"]
    if name == "ballots.blt":
        if not election.is_ranked:
            return None
        return papers.ballots_to_blt(
            candidates=candidates,
            seats=election.seats,
            title=election.title,
            papers=papers_list,
        )
    if name == "ballots.csv":
        if election.is_ranked and any(
            len(group) > 1 for p in papers_list for group in p["ranking"]
        ):
            return None
        return papers.ballots_to_csv(candidates=candidates, papers=papers_list)
    if name == "summary-rctab.json":
        data = json.loads(result.result_json)
        summary = tally_adapter.rctab_summary(
            data,
            contest=election.title,
            date=f"{election.closes_at:%Y-%m-%d}",
            jurisdiction=election.group.name,
        )
        return json.dumps(summary, indent=2, ensure_ascii=False)
    if name == "result.json":
        return result.result_json
    if name == "trackers.txt":
        return "".join(code + "\n" for code in selectors.published_trackers(result))
    seal = election.seal
    return (
        f"definition_sha256 {seal.definition_sha256}\n"
        f"roll_sha256 {seal.roll_sha256}\n"
        f"ballots_sha256 {result.ballots_sha256}\n"
        f"result_sha256 {result.result_sha256}\n"
    )
