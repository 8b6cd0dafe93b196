"""The public draw: commit, random number, background selection, publication, and
replacement draws for people who drop out.

1. **Commit** (``draw_commit``): the pool is frozen; the canonical pool file (one
   row per person in the draw: pseudonym, feature values and, with one person per
   household, an anonymous household label) and the quotas file are written and
   their SHA-256 published with the algorithm and where the random number will
   come from. Impossible quotas are refused here, naming the conflict and the
   smallest relaxation the engine finds; nothing is committed.
2. **Random number** (``draw_start``): typed in at the public meeting; the
   selection then runs in the background (``assemblies.run_draw``).
3. **Selection** (``draw_run``): the engine reads the very bytes that were
   published (``read_people``/``read_quotas``), computes every person's selection
   probability and the lottery, and the random number picks the panel from it.
   Published: the lottery file, the probabilities by pseudonym and the panel.
   Anyone re-runs it with ``commonground sortition`` (``verify_command``).

A replacement draw fills the seats of people who dropped out from the rest of
the pool (no one who held a seat), with every quota reduced by the seats still
held, the same way.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.engines.sortition import (
    InfeasibleQuotasError,
    Person,
    Progress,
    Quota,
    SortitionError,
    read_people,
    read_quotas,
    select_panel,
)
from commonground.members.selectors import viewer_for

from .. import notifications, rules
from ..models import (
    Assembly,
    Category,
    Draw,
    DrawKind,
    DrawStatus,
    PanelSeat,
    Registrant,
    SeatStatus,
    Status,
)
from . import clock, locks
from .errors import AssemblyRefused

logger = logging.getLogger(__name__)

RUN_TASK = "assemblies.run_draw"
# Fixed so the published command is the same for every draw: the seed only
# decides which equivalent panels make up the lottery, never who is drawn (the
# public random number does).
ENGINE_SEED = 0
LOTTERY_SIZE = 1000
TIME_LIMIT_SECONDS = 600
MAX_RANDOM_DIGITS = 200


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pool_queryset(assembly: Assembly) -> QuerySet[Registrant]:
    """Everyone in the pool now: registered with consent, address confirmed, not
    withdrawn, feature answers given."""
    return (
        Registrant.objects.filter(
            assembly=assembly,
            consent_to_draw=True,
            email_confirmed_at__isnull=False,
            withdrawn_at__isnull=True,
        )
        .exclude(features={})
        .order_by("pseudonym")
    )


def quota_rows(assembly: Assembly) -> list[tuple[str, str, int, int]]:
    return [
        (key, value, minimum, maximum)
        for key, value, minimum, maximum in Category.objects.filter(
            feature__assembly=assembly
        )
        .order_by("feature__order", "feature__id", "order", "id")
        .values_list("feature__key", "value", "minimum", "maximum")
    ]


def feature_keys(assembly: Assembly) -> list[str]:
    keys: list[str] = []
    for key, _value, _mi, _ma in quota_rows(assembly):
        if key not in keys:
            keys.append(key)
    return keys


def quotas_file(rows: list[tuple[str, str, int, int]]) -> bytes:
    lines = ["feature,value,min,max"]
    lines += [f"{key},{value},{low},{high}" for key, value, low, high in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def pool_file(
    people: list[tuple[str, dict[str, str], str]],
    keys: list[str],
    *,
    households: bool,
) -> bytes:
    """The canonical pool file: ``id`` then one column per feature (and
    ``household`` with one person per household), rows sorted by pseudonym, LF line
    ends, UTF-8. ``people`` is (pseudonym, features, household key); only
    households with more than one person in the pool get a label (h1, h2, ... in
    order of their first pseudonym), so no address is ever published."""
    people = sorted(people, key=lambda person: person[0])
    labels: dict[str, str] = {}
    if households:
        counts = Counter(h for _p, _f, h in people if h)
        for _pseudonym, _features, house in people:
            if house and counts[house] > 1 and house not in labels:
                labels[house] = f"h{len(labels) + 1}"
    header = ["id", *keys] + (["household"] if households else [])
    lines = [",".join(header)]
    for pseudonym, features, house in people:
        row = [pseudonym, *(features.get(key, "") for key in keys)]
        if households:
            row.append(labels.get(house, ""))
        lines.append(",".join(row))
    return ("\n".join(lines) + "\n").encode("utf-8")


def verify_command(draw: Draw, assembly: Assembly) -> str:
    """The command anyone runs on the published files to get the same panel."""
    household = " --household-columns household" if assembly.one_per_household else ""
    number = draw.random_number or "R"
    return (
        f"commonground sortition --people pool-{draw.number}.csv "
        f"--quotas quotas-{draw.number}.csv --panel-size {draw.seat_count} "
        f"--algorithm {draw.algorithm} --seed {ENGINE_SEED} "
        f"--lottery-size {LOTTERY_SIZE} --id-column id{household} "
        f"--time-limit {TIME_LIMIT_SECONDS} --draw {number} --format json"
    )


def engine_input(
    pool: bytes, quotas: bytes, *, households: bool
) -> tuple[list[Person], list[Quota]]:
    """Read the published files with the engine's own readers (as the CLI does)."""
    with tempfile.TemporaryDirectory() as folder:
        quotas_path = Path(folder) / "quotas.csv"
        pool_path = Path(folder) / "pool.csv"
        quotas_path.write_bytes(quotas)
        pool_path.write_bytes(pool)
        quota_list = read_quotas(quotas_path)
        people = read_people(
            pool_path,
            quota_list,
            id_column="id",
            household_columns=("household",) if households else (),
        )
    return people, quota_list


def feasibility(
    people: list[Person], quotas: list[Quota], seats: int
) -> InfeasibleQuotasError | None:
    """None when some panel meets every quota, else the engine's explanation (the
    conflicting features and the smallest relaxation). Cheap: one greedy panel."""
    if seats < 1:
        return None
    try:
        select_panel(
            people,
            quotas,
            seats,
            algorithm="legacy",
            legacy_draws=1,
            lottery_size=1,
            time_limit=30,
        )
    except InfeasibleQuotasError as error:
        return error
    return None


def infeasible_message(error: InfeasibleQuotasError) -> str:
    """The engine's explanation in the organiser's language."""
    if not error.relaxation:
        return _("No panel can meet every quota: %(reason)s") % {
            "reason": error.message
        }
    steps = "; ".join(
        (
            _("%(feature)s = %(value)s: lower the minimum from %(old)d to %(new)d")
            if change.bound == "min"
            else _("%(feature)s = %(value)s: raise the maximum from %(old)d to %(new)d")
        )
        % {
            "feature": change.feature,
            "value": change.value,
            "old": change.old,
            "new": change.new,
        }
        for change in error.relaxation
    )
    return _(
        "No panel from this pool meets every quota (conflicting: %(features)s). "
        "Smallest relaxation: %(steps)s."
    ) % {"features": ", ".join(error.conflicting_features) or "-", "steps": steps}


def _require_manager(actor: Any, assembly: Assembly) -> None:
    if not rules.can_manage(viewer_for(actor, assembly.group)):
        raise PermissionDenied(_("Only the group's organisers can run its assemblies."))


def _held_seats(assembly: Assembly) -> QuerySet[PanelSeat]:
    return PanelSeat.objects.filter(assembly=assembly, status=SeatStatus.SEATED)


def _replacement_quotas(
    assembly: Assembly, rows: list[tuple[str, str, int, int]]
) -> list[tuple[str, str, int, int]]:
    held: Counter[tuple[str, str]] = Counter()
    for features in _held_seats(assembly).values_list(
        "registrant__features", flat=True
    ):
        for key, value in features.items():
            held[(key, value)] += 1
    return [
        (
            key,
            value,
            max(0, low - held[(key, value)]),
            max(0, high - held[(key, value)]),
        )
        for key, value, low, high in rows
    ]


@transaction.atomic
def draw_commit(
    *, actor: Any, assembly: Assembly, kind: str = DrawKind.INITIAL
) -> Draw:
    """Freeze the pool and commit a draw (see the module's docstring).

    The initial draw is committed once, while recruiting; a replacement draw once
    the panel is drawn, when seats are empty and no other draw is pending.
    """
    assembly = locks.assembly_for_update(assembly.pk)
    _require_manager(actor, assembly)
    rows = quota_rows(assembly)
    if kind == DrawKind.INITIAL:
        if assembly.status != Status.RECRUITING:
            raise AssemblyRefused(
                _("This assembly already has its initial draw.")
                if Draw.objects.filter(
                    assembly=assembly, kind=DrawKind.INITIAL
                ).exists()
                else _("Open recruitment before committing the draw.")
            )
        seats = assembly.panel_size
        pool = list(pool_queryset(assembly))
    elif kind == DrawKind.REPLACEMENT:
        if assembly.status not in {Status.DRAWN, Status.DELIBERATING}:
            raise AssemblyRefused(_("A replacement draw comes after the initial draw."))
        if Draw.objects.filter(
            assembly=assembly, status__in=[DrawStatus.COMMITTED, DrawStatus.RUNNING]
        ).exists():
            raise AssemblyRefused(_("Another draw is pending: finish it first."))
        seats = PanelSeat.objects.filter(
            assembly=assembly, status=SeatStatus.DROPPED_OUT, replaced_by__isnull=True
        ).count()
        if seats == 0:
            raise AssemblyRefused(_("No seat is empty: nobody has dropped out."))
        ever_seated = PanelSeat.objects.filter(assembly=assembly).values(
            "registrant_id"
        )
        pool = list(pool_queryset(assembly).exclude(pk__in=ever_seated))
        rows = _replacement_quotas(assembly, rows)
    else:
        raise ValidationError(_("Unknown kind of draw."))
    if len(pool) < seats:
        raise AssemblyRefused(
            _("The pool has %(pool)d people for %(seats)d seats.")
            % {"pool": len(pool), "seats": seats}
        )
    keys = feature_keys(assembly)
    pool_bytes = pool_file(
        [(r.pseudonym, r.features, r.household_key) for r in pool],
        keys,
        households=assembly.one_per_household,
    )
    quotas_bytes = quotas_file(rows)
    try:
        people, quotas = engine_input(
            pool_bytes, quotas_bytes, households=assembly.one_per_household
        )
    except SortitionError as error:
        raise AssemblyRefused(str(error)) from None
    problem = feasibility(people, quotas, seats)
    if problem is not None:
        raise AssemblyRefused(infeasible_message(problem))
    number = (
        Draw.objects.filter(assembly=assembly)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
        or 0
    ) + 1
    try:
        with transaction.atomic():
            draw = Draw.objects.create(
                assembly=assembly,
                kind=kind,
                number=number,
                seat_count=seats,
                pool_file=pool_bytes,
                pool_sha256=sha256(pool_bytes),
                quotas_file=quotas_bytes,
                quotas_sha256=sha256(quotas_bytes),
                algorithm=assembly.algorithm,
                seed_source=assembly.seed_source,
                committed_at=clock.now(),
                committed_by=actor,
            )
    except IntegrityError:
        raise AssemblyRefused(
            _("This assembly already has its initial draw.")
        ) from None
    if kind == DrawKind.INITIAL:
        assembly.status = Status.POOL_FROZEN
        assembly.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="assembly.draw_committed",
        target=assembly,
        group=assembly.group,
        data={
            "draw": number,
            "kind": kind,
            "seats": seats,
            "pool": len(pool),
            "pool_sha256": draw.pool_sha256,
            "quotas_sha256": draw.quotas_sha256,
            "algorithm": draw.algorithm,
            "seed_source": draw.seed_source,
        },
    )
    return draw


def clean_random_number(text: str) -> str:
    number = "".join(str(text).split())
    if not number or not number.isascii() or not number.isdigit():
        raise ValidationError(
            {"random_number": _("Type the random number as digits only (0-9).")}
        )
    if len(number) > MAX_RANDOM_DIGITS:
        raise ValidationError({"random_number": _("The random number is too long.")})
    return str(int(number))


@transaction.atomic
def draw_start(*, actor: Any, draw: Draw, random_number: str) -> Draw:
    """Record the public random number and queue the selection (once)."""
    assembly = locks.assembly_for_update(draw.assembly_id)
    _require_manager(actor, assembly)
    draw = locks.draw_for_update(draw.pk)
    if draw.status != DrawStatus.COMMITTED:
        raise AssemblyRefused(_("This draw has already been run."))
    draw.random_number = clean_random_number(random_number)
    draw.status = DrawStatus.RUNNING
    draw.started_at = clock.now()
    draw.progress = 0.0
    draw.progress_message = _("Waiting for a worker")
    draw.save()
    audit_record(
        actor=actor,
        action="assembly.draw_started",
        target=assembly,
        group=assembly.group,
        data={"draw": draw.number, "random_number": draw.random_number},
    )
    draw_id = draw.pk
    transaction.on_commit(lambda: queue_run(draw_id))
    return draw


def queue_run(draw_id: int) -> None:
    from celery import current_app

    try:
        current_app.tasks[RUN_TASK].delay(draw_id)
    except Exception:  # the organiser can queue it again from the draw page
        logger.exception("could not queue draw %s", draw_id)


def draw_requeue(*, actor: Any, draw: Draw) -> None:
    """Queue a running draw again (its worker died): the task is idempotent."""
    assembly = Assembly.objects.select_related("group").get(pk=draw.assembly_id)
    _require_manager(actor, assembly)
    if draw.status != DrawStatus.RUNNING:
        raise AssemblyRefused(_("This draw is not running."))
    audit_record(
        actor=actor,
        action="assembly.draw_requeued",
        target=assembly,
        group=assembly.group,
        data={"draw": draw.number},
    )
    queue_run(draw.pk)


def _progress_writer(draw_id: int) -> Any:
    last = [0.0]

    def report(progress: Progress) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0 and progress.phase != "done":
            return
        last[0] = now
        phases = {"bounds": 0.0, "panels": 0.1, "lottery": 0.95, "done": 1.0}
        base = phases.get(progress.phase, 0.0)
        span = {"bounds": 0.1, "panels": 0.85, "lottery": 0.05}.get(progress.phase, 0.0)
        Draw.objects.filter(pk=draw_id, status=DrawStatus.RUNNING).update(
            progress=min(1.0, base + span * max(0.0, min(1.0, progress.fraction))),
            progress_message=progress.message[:300],
        )

    return report


def draw_run(*, draw_id: int) -> str:
    """Run a draw whose random number is in (the background task). Idempotent: a
    draw already done or failed is left alone. Returns the draw's status."""
    draw = Draw.objects.select_related("assembly").get(pk=draw_id)
    if draw.status != DrawStatus.RUNNING:
        return draw.status
    assembly = draw.assembly
    try:
        people, quotas = engine_input(
            bytes(draw.pool_file),
            bytes(draw.quotas_file),
            households=assembly.one_per_household,
        )
        result = select_panel(
            people,
            quotas,
            draw.seat_count,
            algorithm=draw.algorithm,
            lottery_size=LOTTERY_SIZE,
            seed=ENGINE_SEED,
            random_number=int(draw.random_number),
            time_limit=TIME_LIMIT_SECONDS,
            progress=_progress_writer(draw.pk),
        )
    except InfeasibleQuotasError as error:
        return _fail(draw_id, infeasible_message(error))
    except SortitionError as error:
        return _fail(draw_id, str(error))
    if result.status != "optimal":
        # Cut short by the clock, the distribution depends on how fast this
        # machine was: someone re-running the published files elsewhere would get
        # another lottery. A published draw must be reproducible, so none is made.
        return _fail(
            draw_id,
            _(
                "The engine did not finish within %(minutes)d minutes, so nobody was "
                "drawn: a result cut short by the clock could not be re-run by others "
                "and give the same panel. Widen the tightest quotas and commit a new "
                "draw."
            )
            % {"minutes": TIME_LIMIT_SECONDS // 60},
        )
    assert result.drawn is not None
    return _publish(draw_id, result)


@transaction.atomic
def _fail(draw_id: int, message: str) -> str:
    draw = Draw.objects.select_related("assembly__group").get(pk=draw_id)
    locks.assembly_for_update(draw.assembly_id)
    draw = locks.draw_for_update(draw_id)
    if draw.status != DrawStatus.RUNNING:
        return draw.status
    draw.status = DrawStatus.FAILED
    draw.error = message
    draw.finished_at = clock.now()
    draw.save()
    assembly = Assembly.objects.select_related("group").get(pk=draw.assembly_id)
    audit_record(
        actor=None,
        action="assembly.draw_failed",
        target=assembly,
        group=assembly.group,
        data={"draw": draw.number, "error": message[:500]},
    )
    return draw.status


@transaction.atomic
def _publish(draw_id: int, result: Any) -> str:
    draw_row = Draw.objects.get(pk=draw_id)
    assembly = locks.assembly_for_update(draw_row.assembly_id)
    draw = locks.draw_for_update(draw_id)
    if draw.status != DrawStatus.RUNNING:
        return draw.status
    panel = sorted(result.drawn.panel)
    lottery_bytes = result.lottery.to_bytes()
    draw.lottery_file = lottery_bytes
    draw.lottery_sha256 = result.lottery.sha256
    draw.result = {
        "probabilities": {pid: result.probabilities[pid] for pid in result.person_ids},
        "lottery_probabilities": {
            pid: result.lottery_probabilities[pid] for pid in result.person_ids
        },
        "panel": panel,
        "index": result.drawn.index,
        "status": result.status,
        "gap": result.gap,
        "min": result.stats.minimum,
        "max": result.stats.maximum,
        "gini": result.stats.gini,
        "seed": ENGINE_SEED,
        "lottery_size": LOTTERY_SIZE,
    }
    draw.status = DrawStatus.DONE
    draw.progress = 1.0
    draw.progress_message = ""
    draw.finished_at = clock.now()
    draw.save()
    registrants = {
        r.pseudonym: r
        for r in Registrant.objects.filter(assembly=assembly, pseudonym__in=panel)
    }
    new_seats = [
        PanelSeat.objects.create(
            assembly=assembly, registrant=registrants[pseudonym], draw=draw
        )
        for pseudonym in panel
    ]
    if draw.kind == DrawKind.REPLACEMENT:
        empty = list(
            PanelSeat.objects.filter(
                assembly=assembly,
                status=SeatStatus.DROPPED_OUT,
                replaced_by__isnull=True,
            ).order_by("dropped_out_at", "id")
        )
        for old, new in zip(empty, new_seats, strict=False):
            old.replaced_by = new
            old.save(update_fields=["replaced_by"])
    elif assembly.status == Status.POOL_FROZEN:
        assembly.status = Status.DRAWN
        assembly.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=None,
        action="assembly.draw_finished",
        target=assembly,
        group=assembly.group,
        data={
            "draw": draw.number,
            "lottery_sha256": draw.lottery_sha256,
            "index": result.drawn.index,
            "panel": panel,
        },
    )
    notifications.panel_drawn(assembly, [registrants[p] for p in panel])
    # People from the open call without an account are invited to take their seat
    # (once per seat; the emails leave after the commit).
    from .deliberation import panel_seats_welcome

    panel_seats_welcome(assembly=assembly)
    return draw.status


@transaction.atomic
def seat_drop_out(*, actor: Any, seat: PanelSeat, reason: str = "") -> PanelSeat:
    """Record that a panel member can no longer take part: their seat is empty
    until a replacement draw fills it."""
    assembly = locks.assembly_for_update(seat.assembly_id)
    _require_manager(actor, assembly)
    seat = PanelSeat.objects.select_for_update().get(pk=seat.pk)
    if seat.status != SeatStatus.SEATED:
        raise AssemblyRefused(_("This seat is already empty."))
    seat.status = SeatStatus.DROPPED_OUT
    seat.dropped_out_at = clock.now()
    seat.save(update_fields=["status", "dropped_out_at"])
    audit_record(
        actor=actor,
        action="assembly.seat_dropped_out",
        target=assembly,
        group=assembly.group,
        reason=" ".join(reason.split())[:500],
        data={"draw": seat.draw.number},
    )
    return seat
