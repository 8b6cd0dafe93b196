"""Thin views of the membership register: parse input, call one service or selector,
render. Every page is for the organisation's admins and lives under the
organisation's top-level group; anyone else, and any other organisation's job, gets
404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commonground.members import selectors as member_selectors
from commonground.members.http import MemberRequest
from commonground.members.models import Group

from . import rules, selectors, services
from .forms import ColumnMappingForm, PostcodeTableForm, RegisterUploadForm
from .models import ImportJob

EXPORT_TYPES = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "osdi": ("application/json; charset=utf-8", "osdi.json"),
}


def _register_group(request: MemberRequest, slug: str) -> Group:
    """The organisation's top-level group, for the organisation's admins only."""
    try:
        group = member_selectors.group_by_slug(slug)
    except Group.DoesNotExist:
        raise Http404("No such group") from None
    if group.parent_id is not None or not rules.can_manage_register(
        request.user, group.organisation
    ):
        raise Http404("No such page")
    return group


def _job(request: MemberRequest, slug: str, job_id: int) -> tuple[Group, ImportJob]:
    group = _register_group(request, slug)
    try:
        return group, selectors.import_job(group.organisation, job_id)
    except ImportJob.DoesNotExist:
        raise Http404("No such import") from None


def _register_context(group: Group, **forms: Any) -> dict[str, Any]:
    return {
        "group": group,
        "organisation": group.organisation,
        "jobs": selectors.import_jobs(group.organisation),
        "size": selectors.register_size(group.organisation),
        "upload_form": forms.get("upload_form") or RegisterUploadForm(),
    }


@login_required
@never_cache
def register(request: MemberRequest, slug: str) -> HttpResponse:
    group = _register_group(request, slug)
    return render(request, "onboarding/register.html", _register_context(group))


@login_required
@require_POST
def import_upload(request: MemberRequest, slug: str) -> HttpResponse:
    group = _register_group(request, slug)
    form = RegisterUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_upload(
                actor=request.user,
                organisation=group.organisation,
                group=group,
                file_name=upload.name,
                content=b"".join(upload.chunks()),
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect("onboarding:import_mapping", group.slug, job.pk)
    context = _register_context(group, upload_form=form)
    return render(request, "onboarding/register.html", context, status=400)


@login_required
@never_cache
def import_mapping(request: MemberRequest, slug: str, job_id: int) -> HttpResponse:
    group, job = _job(request, slug, job_id)
    if not services.can_change_mapping(job):
        return redirect("onboarding:import_job", group.slug, job.pk)
    form = ColumnMappingForm(
        request.POST or None,
        headers=job.headers,
        samples=job.samples,
        initial=ColumnMappingForm.initial_for(job),
    )
    if form.is_valid():
        try:
            services.import_mapping_save(actor=request.user, job=job, **form.rules())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("onboarding:import_job", group.slug, job.pk)
    context = {"group": group, "job": job, "form": form}
    status = 400 if form.is_bound else 200
    return render(request, "onboarding/mapping.html", context, status=status)


def _job_context(group: Group, job: ImportJob) -> dict[str, Any]:
    return {
        "group": group,
        "job": job,
        "report": job.report,
        "earlier": selectors.earlier_import_of_same_file(job),
        "can_change_mapping": services.can_change_mapping(job),
        "can_resume": services.can_resume(job),
        "polling": job.is_running,
        "date_formats": ColumnMappingForm.date_formats(job),
        "max_errors": services.MAX_REPORTED_ERRORS,
    }


@login_required
@never_cache
def import_job(request: MemberRequest, slug: str, job_id: int) -> HttpResponse:
    """The job's state; for htmx (every 2 s while it runs) only the status part."""
    group, job = _job(request, slug, job_id)
    if request.htmx:
        template = "onboarding/partials/job_status.html"
    else:
        template = "onboarding/job.html"
    return render(request, template, _job_context(group, job))


@login_required
@require_POST
def import_apply(request: MemberRequest, slug: str, job_id: int) -> HttpResponse:
    group, job = _job(request, slug, job_id)
    try:
        services.import_apply_start(actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("onboarding:import_job", group.slug, job.pk)


@login_required
@require_POST
def import_resume(request: MemberRequest, slug: str, job_id: int) -> HttpResponse:
    group, job = _job(request, slug, job_id)
    try:
        services.import_resume(actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("onboarding:import_job", group.slug, job.pk)


@login_required
@never_cache
def postcode_areas(request: MemberRequest, slug: str) -> HttpResponse:
    """The table, and (POST) the check of a new one with a button to apply it."""
    group = _register_group(request, slug)
    form = PostcodeTableForm(request.POST or None, request.FILES or None)
    check = None
    if form.is_valid():
        try:
            check = services.postcode_table_check(
                actor=request.user,
                organisation=group.organisation,
                content=form.content(),
            )
        except ValidationError as error:
            form.add_error("file", error)
    areas = selectors.postcode_areas(group.organisation)
    context = {"group": group, "form": form, "check": check, "areas": areas}
    status = 400 if form.errors or (check is not None and not check.ok) else 200
    return render(request, "onboarding/postcode_areas.html", context, status=status)


@login_required
@require_POST
def postcode_areas_replace(request: MemberRequest, slug: str) -> HttpResponse:
    group = _register_group(request, slug)
    try:
        count = services.postcode_table_replace(
            actor=request.user,
            organisation=group.organisation,
            group=group,
            token=request.POST.get("token", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        text = ngettext(
            "The postcode table now has %(count)d prefix.",
            "The postcode table now has %(count)d prefixes.",
            count,
        )
        messages.success(request, text % {"count": count})
    return redirect("onboarding:postcode_areas", group.slug)


@login_required
@require_POST
def register_export(
    request: MemberRequest, slug: str, kind: str
) -> StreamingHttpResponse:
    group = _register_group(request, slug)
    if kind not in EXPORT_TYPES:
        raise Http404("No such format")
    try:
        chunks = services.register_export(
            actor=request.user,
            organisation=group.organisation,
            group=group,
            file_format=kind,
        )
    except PermissionDenied:
        raise Http404("No such page") from None
    content_type, extension = EXPORT_TYPES[kind]
    response = StreamingHttpResponse(chunks, content_type=content_type)
    name = f"{group.organisation.slug}-register-{timezone.localdate():%Y-%m-%d}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response
