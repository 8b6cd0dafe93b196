"""An organisation's look: logo and accent colour.

Each function is atomic: it checks permission, writes, and appends the audit
entry in the same transaction, so an action is never half-done or unlogged.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record

from ..models import (
    Membership,
    Organisation,
    User,
)

Status = Membership.Status


def _store_logo(organisation: Organisation, prepared: Any) -> tuple[str, list[Any]]:
    """Write a prepared logo's source and renditions; returns their storage names."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    stem = f"{organisation.slug}-{prepared.digest}"
    field = Organisation._meta.get_field("logo")
    source_name = default_storage.save(
        field.generate_filename(organisation, f"{stem}.png"),  # type: ignore[attr-defined]
        ContentFile(prepared.source.png),
    )
    renditions = [
        {
            "width": image.width,
            "height": image.height,
            "name": default_storage.save(
                field.generate_filename(organisation, f"{stem}-{image.width}.png"),  # type: ignore[attr-defined]
                ContentFile(image.png),
            ),
        }
        for image in prepared.renditions
    ]
    return source_name, renditions


def _delete_logo_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            default_storage.delete(name)


@transaction.atomic
def organisation_branding_update(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    accent_colour: str,
    logo: Any = None,
    remove_logo: bool = False,
) -> Organisation:
    """Change an organisation's name, accent colour and logo; its admins only.

    ``logo`` is an uploaded file (checked by content and resized here, see
    ``members.branding.logo_prepare``) or None to keep the current one;
    ``remove_logo`` drops it. The replaced files are deleted once the change commits.
    """
    from .. import branding
    from ..selectors import is_organisation_admin

    if not is_organisation_admin(actor, organisation):
        raise PermissionDenied(
            _("only the organisation's admins can change its branding")
        )
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the organisation's name.")})
    try:
        accent = branding.accent_check(accent_colour).colour
    except ValidationError as error:
        raise ValidationError({"accent_colour": error}) from None
    after: dict[str, Any] = {"name": name, "accent_colour": accent}
    old_files = [organisation.logo.name or ""] + [
        item["name"] for item in organisation.logo_renditions or []
    ]
    if logo is not None:
        try:
            prepared = branding.logo_prepare(logo)
        except ValidationError as error:
            raise ValidationError({"logo": error}) from None
        after["logo"], after["logo_renditions"] = _store_logo(organisation, prepared)
    elif remove_logo:
        after["logo"], after["logo_renditions"] = "", []
    before = {
        "name": organisation.name,
        "accent_colour": organisation.accent_colour,
        "logo": organisation.logo.name or "",
    }
    changed = {
        key: [before[key], after[key]]
        for key in ("name", "accent_colour", "logo")
        if key in after and before[key] != after[key]
    }
    if not changed:
        return organisation
    Organisation.objects.filter(pk=organisation.pk).update(**after)
    if "logo" in after:
        transaction.on_commit(lambda: _delete_logo_files(old_files))
    organisation.refresh_from_db()
    audit_record(
        actor=actor,
        action="organisation.branding_changed",
        target=organisation,
        group=organisation.groups.filter(parent__isnull=True).order_by("path").first(),
        data={"changed": changed},
    )
    return organisation
