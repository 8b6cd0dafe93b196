"""Set-up for the assemblies tests of items 1-3: a group with an organiser, an
assembly with quotas, and a pool registered through the services."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from commonground.assemblies import services
from commonground.assemblies.models import Assembly, Registrant
from commonground.assemblies.services import CategorySpec, FeatureSpec

# Two features for a panel of 4: gender (2 each way) and age (1-3 young).
QUOTAS = [
    FeatureSpec(
        "gender",
        "Gender",
        (CategorySpec("female", "Female", 2, 2), CategorySpec("male", "Male", 2, 2)),
    ),
    FeatureSpec(
        "age",
        "Age",
        (
            CategorySpec("young", "Under 40", 1, 3),
            CategorySpec("old", "40 or over", 1, 3),
        ),
    ),
]

# Twelve people: six women and six men, half of each young.
POOL = [
    ("female", "young"),
    ("female", "young"),
    ("female", "young"),
    ("female", "old"),
    ("female", "old"),
    ("female", "old"),
    ("male", "young"),
    ("male", "young"),
    ("male", "young"),
    ("male", "old"),
    ("male", "old"),
    ("male", "old"),
]


def make_assembly(
    group: Any, organiser: Any, *, open_call: bool = True, **settings: Any
) -> Assembly:
    settings.setdefault("title", "Leeds transport assembly")
    settings.setdefault("question", "How should Leeds get around in 2035?")
    settings.setdefault("panel_size", 4)
    settings.setdefault("kind", "citizens" if open_call else "members")
    settings.setdefault("seed_source", "Three ten-sided dice at the public meeting")
    assembly = services.assembly_create(
        actor=organiser,
        group=group,
        settings=services.AssemblySettings(**settings),
    )
    services.quotas_set(actor=organiser, assembly=assembly, features=QUOTAS)
    return assembly


def open_assembly(group: Any, organiser: Any, **settings: Any) -> Assembly:
    assembly = make_assembly(group, organiser, **settings)
    return services.recruitment_open(actor=organiser, assembly=assembly)


def register(
    assembly: Assembly,
    name: str,
    gender: str,
    age: str,
    *,
    user: Any = None,
    confirm: bool = True,
    publish_name: bool = True,
    address: str = "",
) -> Registrant:
    registrant = services.registrant_register(
        assembly=assembly,
        actor=user or AnonymousUser(),
        name=name,
        email=f"{name.lower().replace(' ', '.')}@example.org",
        features={"gender": gender, "age": age},
        consent_to_draw=True,
        consent_publish_name=publish_name,
        address=address,
    )
    assert registrant is not None
    if confirm and registrant.email_confirmed_at is None:
        from commonground.assemblies.services.recruitment import confirm_token

        registrant = services.registrant_confirm(token=confirm_token(registrant))
    return registrant


def fill_pool(
    assembly: Assembly, people: list[tuple[str, str]] = POOL
) -> list[Registrant]:
    return [
        register(assembly, f"Person {i}", gender, age)
        for i, (gender, age) in enumerate(people)
    ]


def run_draw(
    organiser: Any, assembly: Assembly, number: str = "1234", kind: str = "initial"
):
    draw = services.draw_commit(actor=organiser, assembly=assembly, kind=kind)
    draw = services.draw_start(actor=organiser, draw=draw, random_number=number)
    services.draw_run(draw_id=draw.pk)
    draw.refresh_from_db()
    return draw
