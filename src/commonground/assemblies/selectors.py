"""Reads of the assemblies app: lists, the pool's counts and feasibility, the
published draws, and what each person may see about themselves.

Nothing here links a pseudonym to a person except ``pool_mapping`` (organisers)
and ``registrant_*`` (the person themself): public pages get pseudonyms and
probabilities, and the names of panel members who agreed, in alphabetical order,
never beside their pseudonyms.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import Activity, GroupOverview, Label, NeedsYou
from commonground.engines.sortition import Person, Quota

from . import rules
from .models import (
    Assembly,
    Draw,
    DrawKind,
    DrawStatus,
    Feature,
    PanelSeat,
    Registrant,
    SeatStatus,
    Status,
)
from .services import draws as draw_services

OPEN_STATUSES = (
    Status.RECRUITING,
    Status.POOL_FROZEN,
    Status.DRAWN,
    Status.DELIBERATING,
)
FEASIBILITY_SECONDS = 300


def group_assemblies(group: Any, viewer: Any) -> list[Assembly]:
    assemblies = Assembly.objects.filter(group=group).order_by("-created_at", "-id")
    if not rules.can_manage(viewer):
        assemblies = assemblies.exclude(status=Status.DRAFT)
    return list(assemblies)


def group_open_count(group: Any, viewer: Any) -> int:
    return Assembly.objects.filter(group=group, status__in=OPEN_STATUSES).count()


def group_overview(group: Any, viewer: Any) -> GroupOverview:
    """Pools this member may still join, and the latest draws (two queries)."""
    needs: list[NeedsYou] = []
    now = timezone.now()
    if getattr(viewer.user, "is_authenticated", False) and viewer.is_member:
        recruiting = (
            Assembly.objects.filter(group=group, status=Status.RECRUITING)
            .filter(
                Q(recruitment_closes_at__isnull=True) | Q(recruitment_closes_at__gt=now)
            )
            .exclude(
                Exists(
                    Registrant.objects.filter(assembly=OuterRef("pk"), user=viewer.user)
                )
            )
            .order_by("recruitment_closes_at", "-created_at")[:5]
        )
        needs += [
            NeedsYou(
                text=_("Join the pool of the assembly: %(title)s")
                % {"title": assembly.title},
                url=reverse("assemblies:detail", args=[assembly.slug]),
                due=assembly.recruitment_closes_at,
            )
            for assembly in recruiting
            if assembly.recruitment == "open_call"
        ]
    activity = [
        Activity(
            when=draw.finished_at,
            text=_("Panel drawn in public: %(title)s") % {"title": draw.assembly.title},
            url=reverse("assemblies:draw", args=[draw.assembly.slug, draw.number]),
        )
        for draw in Draw.objects.filter(
            assembly__group=group, status=DrawStatus.DONE, finished_at__isnull=False
        )
        .exclude(assembly__status=Status.DRAFT)
        .select_related("assembly")
        .only("number", "finished_at", "assembly__title", "assembly__slug")
        .order_by("-finished_at")[:5]
        if draw.finished_at is not None
    ]
    return GroupOverview(needs_you=needs, activity=activity)


def archive_blockers(group: Any) -> list[Label]:
    if Assembly.objects.filter(group=group, status__in=OPEN_STATUSES).exists():
        return [_("An assembly of this group is still running.")]
    return []


def personal_data_assemblies(user: Any) -> list[dict[str, Any]]:
    """The member's registrations: their answers, consents, pseudonym and seat."""
    rows = Registrant.objects.filter(user=user).select_related("assembly")
    seats = {
        seat.registrant_id: seat.status
        for seat in PanelSeat.objects.filter(registrant__user=user)
    }
    return [
        {
            "assembly": r.assembly.title,
            "name": r.name,
            "email": r.email,
            "features": r.features,
            "consent_to_draw": r.consent_to_draw,
            "consent_publish_name": r.consent_publish_name,
            "pseudonym": r.pseudonym,
            "registered_at": r.created_at.isoformat(),
            "withdrawn_at": r.withdrawn_at.isoformat() if r.withdrawn_at else None,
            "seat": seats.get(r.pk),
        }
        for r in rows
    ]


def assembly_by_slug(slug: str) -> Assembly | None:
    return Assembly.objects.select_related("group").filter(slug=slug).first()


def quotas(assembly: Assembly) -> list[Feature]:
    return list(
        Feature.objects.filter(assembly=assembly).prefetch_related("categories")
    )


@dataclass
class CategoryCount:
    value: str
    label: str
    minimum: int
    maximum: int
    pool: int
    pool_percent: float
    target_low_percent: float
    target_high_percent: float
    short: bool

    @property
    def band_x(self) -> str:
        """Where the quota's dashed box starts in the chart (30 to 100 is 0-100 %)."""
        return f"{30 + 0.7 * self.target_low_percent:.2f}"

    @property
    def band_width(self) -> str:
        width = 0.7 * (self.target_high_percent - self.target_low_percent)
        return f"{max(width, 0.6):.2f}"


@dataclass
class FeatureCount:
    key: str
    label: str
    categories: list[CategoryCount] = field(default_factory=list)


@dataclass
class PoolOverview:
    total: int
    unconfirmed: int
    withdrawn: int
    features: list[FeatureCount]
    problem: str = ""


def _pool_people(assembly: Assembly) -> list[Person]:
    rows = draw_services.pool_queryset(assembly).values_list(
        "pseudonym", "features", "household_key"
    )
    return [
        Person(
            pseudonym,
            features,
            household=(house or None) if assembly.one_per_household else None,
        )
        for pseudonym, features, house in rows
    ]


def _pool_state(assembly: Assembly) -> tuple[str, dict[str, Any]]:
    """A version of the pool and quotas (changes whenever either does) and the
    registrants' counts, in two queries."""
    stats = Registrant.objects.filter(assembly=assembly).aggregate(
        n=Count("id"),
        last=Max("id"),
        withdrawn=Count("id", filter=Q(withdrawn_at__isnull=False)),
        confirmed=Count("id", filter=Q(email_confirmed_at__isnull=False)),
        consented=Count("id", filter=Q(consent_to_draw=True)),
        unconfirmed=Count(
            "id",
            filter=Q(email_confirmed_at__isnull=True, withdrawn_at__isnull=True),
        ),
    )
    rows = draw_services.quota_rows(assembly)
    state = repr((stats, rows, assembly.panel_size, assembly.one_per_household))
    return hashlib.sha256(state.encode()).hexdigest()[:16], stats


def pool_problem(assembly: Assembly, version: str | None = None) -> str:
    """Why no panel can be drawn from the pool as it is now (with the smallest
    relaxation), or "" when one can. Cached until the pool or quotas change."""
    if version is None:
        version, _stats = _pool_state(assembly)
    key = f"assemblies:feasible:{assembly.pk}:{version}"
    cached = cache.get(key)
    if cached is not None:
        return str(cached)
    seats = assembly.panel_size
    people = _pool_people(assembly)
    rows = draw_services.quota_rows(assembly)
    quota_list = [Quota(f, v, lo, hi) for f, v, lo, hi in rows]
    problem = ""
    if len(people) < seats:
        problem = str(
            _("The pool has %(pool)d people for %(seats)d seats: keep recruiting.")
            % {"pool": len(people), "seats": seats}
        )
    elif quota_list:
        error = draw_services.feasibility(people, quota_list, seats)
        if error is not None:
            problem = draw_services.infeasible_message(error)
    cache.set(key, problem, FEASIBILITY_SECONDS)
    return problem


def _pool_counts(assembly: Assembly, version: str) -> tuple[int, dict[str, int]]:
    """People in the pool, and how many have each "feature=value" (cached until
    the pool changes)."""
    key = f"assemblies:pool-counts:{assembly.pk}:{version}"
    cached = cache.get(key)
    if cached is not None:
        return int(cached[0]), dict(cached[1])
    counts: dict[str, int] = {}
    total = 0
    for answers in draw_services.pool_queryset(assembly).values_list(
        "features", flat=True
    ):
        total += 1
        for name, value in answers.items():
            counts[f"{name}={value}"] = counts.get(f"{name}={value}", 0) + 1
    cache.set(key, (total, counts), FEASIBILITY_SECONDS)
    return total, counts


def pool_overview(assembly: Assembly, *, with_problem: bool = True) -> PoolOverview:
    """Counts per feature value in the pool against the quotas (organisers)."""
    version, stats = _pool_state(assembly)
    total, counts = _pool_counts(assembly, version)
    k = max(assembly.panel_size, 1)
    features: list[FeatureCount] = []
    for feature in quotas(assembly):
        item = FeatureCount(feature.key, feature.label)
        for category in feature.categories.all():
            pool = counts.get(f"{feature.key}={category.value}", 0)
            item.categories.append(
                CategoryCount(
                    value=category.value,
                    label=category.label,
                    minimum=category.minimum,
                    maximum=category.maximum,
                    pool=pool,
                    pool_percent=round(100 * pool / total, 1) if total else 0.0,
                    target_low_percent=round(100 * category.minimum / k, 1),
                    target_high_percent=round(100 * category.maximum / k, 1),
                    short=pool < category.minimum,
                )
            )
        features.append(item)
    return PoolOverview(
        total=total,
        unconfirmed=stats["unconfirmed"],
        withdrawn=stats["withdrawn"],
        features=features,
        problem=pool_problem(assembly, version) if with_problem else "",
    )


def pool_mapping(assembly: Assembly) -> QuerySet[Registrant]:
    """Everyone registered, with name and pseudonym (a queryset to page through):
    organisers only."""
    return Registrant.objects.filter(assembly=assembly).order_by("name", "id")


def latest_probabilities(assembly: Assembly) -> dict[str, float]:
    """Each pseudonym's chance in the latest finished draw it was part of
    (organisers read it beside names)."""
    chances: dict[str, float] = {}
    for result in (
        Draw.objects.filter(assembly=assembly, status=DrawStatus.DONE)
        .order_by("number")
        .values_list("result", flat=True)
    ):
        chances.update((result or {}).get("probabilities", {}))
    return chances


def draws(assembly: Assembly) -> list[Draw]:
    return list(
        Draw.objects.filter(assembly=assembly)
        .defer("pool_file", "quotas_file", "lottery_file")
        .order_by("number")
    )


def draw_by_number(
    assembly: Assembly, number: int, *, files: bool = False
) -> Draw | None:
    found = Draw.objects.filter(assembly=assembly, number=number)
    if not files:
        found = found.defer("pool_file", "quotas_file", "lottery_file", "result")
    return found.first()


def draw_status(assembly: Assembly, number: int) -> Draw | None:
    """Just what the progress fragment polls."""
    return (
        Draw.objects.filter(assembly=assembly, number=number)
        .only("id", "number", "status", "progress", "progress_message", "error")
        .first()
    )


def published_probabilities(draw: Draw) -> list[tuple[str, float, bool]]:
    """(pseudonym, probability, drawn) for everyone in the draw's pool."""
    if not draw.result:
        return []
    panel = set(draw.result.get("panel", []))
    return [
        (pseudonym, probability, pseudonym in panel)
        for pseudonym, probability in sorted(draw.result["probabilities"].items())
    ]


def probabilities_file(draw: Draw) -> bytes | None:
    """The published probabilities as CSV (None before the draw is done)."""
    if not draw.result:
        return None
    lines = ["id,probability,drawn"]
    lines += [
        f"{pseudonym},{probability!r},{int(drawn)}"
        for pseudonym, probability, drawn in published_probabilities(draw)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def panel_public_names(assembly: Assembly) -> list[str]:
    """Names of the seated panel members who agreed to publication, sorted (never
    beside their pseudonyms)."""
    return sorted(
        PanelSeat.objects.filter(
            assembly=assembly,
            status=SeatStatus.SEATED,
            registrant__consent_publish_name=True,
        )
        .exclude(registrant__name="")
        .values_list("registrant__name", flat=True)
    )


def panel_seats(assembly: Assembly) -> list[PanelSeat]:
    """Every seat with its registrant: organisers only."""
    return list(
        PanelSeat.objects.filter(assembly=assembly)
        .select_related("registrant", "draw")
        .order_by("draw__number", "registrant__name", "id")
    )


def empty_seat_count(assembly: Assembly) -> int:
    return PanelSeat.objects.filter(
        assembly=assembly, status=SeatStatus.DROPPED_OUT, replaced_by__isnull=True
    ).count()


def has_initial_draw(assembly: Assembly) -> bool:
    return Draw.objects.filter(assembly=assembly, kind=DrawKind.INITIAL).exists()


def pending_draw(assembly: Assembly) -> Draw | None:
    return (
        Draw.objects.filter(
            assembly=assembly, status__in=[DrawStatus.COMMITTED, DrawStatus.RUNNING]
        )
        .defer("pool_file", "quotas_file", "lottery_file", "result")
        .first()
    )


@dataclass
class MyStanding:
    registrant: Registrant
    probabilities: list[tuple[int, float]]
    seat: PanelSeat | None


def registrant_standing(registrant: Registrant) -> MyStanding:
    """The person's own page: their pseudonym, their chance in each draw they were
    in, and their seat."""
    probabilities: list[tuple[int, float]] = []
    for draw in Draw.objects.filter(
        assembly_id=registrant.assembly_id, status=DrawStatus.DONE
    ).order_by("number"):
        chance = (draw.result or {}).get("probabilities", {}).get(registrant.pseudonym)
        if chance is not None:
            probabilities.append((draw.number, chance))
    seat = PanelSeat.objects.filter(registrant=registrant).first()
    return MyStanding(registrant=registrant, probabilities=probabilities, seat=seat)


def registrant_of_user(assembly: Assembly, user: Any) -> Registrant | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Registrant.objects.filter(assembly=assembly, user=user).first()
