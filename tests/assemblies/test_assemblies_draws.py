"""The public draw: commit (pool frozen, files and hashes published), the random
number, the background selection with progress, publication, replacement draws,
and every refusal (draw before the freeze, a second initial draw, impossible
quotas). The published files re-run through the CLI give the same panel and
probabilities."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from assemblies.assembly_support import fill_pool, open_assembly, register, run_draw
from commonground.assemblies import services
from commonground.assemblies.models import (
    Draw,
    DrawStatus,
    PanelSeat,
    Registrant,
    SeatStatus,
    Status,
)
from commonground.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_commit_freezes_the_pool_and_publishes_canonical_files(group, organiser):
    assembly = open_assembly(group, organiser)
    people = fill_pool(assembly)
    register(assembly, "Unconfirmed", "female", "old", confirm=False)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    assembly.refresh_from_db()
    assert assembly.status == Status.POOL_FROZEN
    pool = bytes(draw.pool_file).decode()
    lines = pool.splitlines()
    assert lines[0] == "id,gender,age"
    assert len(lines) == 13  # the unconfirmed person is not in the draw
    assert [line.split(",")[0] for line in lines[1:]] == sorted(
        p.pseudonym for p in people
    )
    assert pool.endswith("\n") and "\r" not in pool
    assert bytes(draw.quotas_file).decode() == (
        "feature,value,min,max\ngender,female,2,2\ngender,male,2,2\n"
        "age,young,1,3\nage,old,1,3\n"
    )
    assert draw.pool_sha256 == services.sha256(bytes(draw.pool_file))
    assert not any(p.name in pool or p.email in pool for p in people)
    entry = AuditEntry.objects.get(action="assembly.draw_committed")
    assert entry.data["pool_sha256"] == draw.pool_sha256
    assert entry.data["seed_source"] == "Three ten-sided dice at the public meeting"


def test_changing_one_byte_of_the_pool_file_changes_the_published_hash(
    group, organiser
):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    data = bytearray(bytes(draw.pool_file))
    data[-2] = ord("x") if data[-2] != ord("x") else ord("y")
    assert services.sha256(bytes(data)) != draw.pool_sha256


def test_the_draw_publishes_probabilities_and_seats_the_panel(group, organiser):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = run_draw(organiser, assembly, "1234")
    assert draw.status == DrawStatus.DONE
    assert draw.result["index"] == 234  # 1234 mod 1000
    panel = draw.result["panel"]
    assert len(panel) == 4
    # Each of 6 women and 6 men fills 2 of 4 seats: everyone has 1/3.
    assert all(abs(p - 1 / 3) < 1e-9 for p in draw.result["probabilities"].values())
    seated = Registrant.objects.filter(seats__status=SeatStatus.SEATED)
    assert sorted(seated.values_list("pseudonym", flat=True)) == sorted(panel)
    genders = sorted(r.features["gender"] for r in seated)
    assert genders == ["female", "female", "male", "male"]
    assert draw.lottery_sha256 == services.sha256(bytes(draw.lottery_file))
    assembly.refresh_from_db()
    assert assembly.status == Status.DRAWN
    assert AuditEntry.objects.filter(action="assembly.draw_finished").exists()
    # Idempotent: running it again changes nothing.
    assert services.draw_run(draw_id=draw.pk) == DrawStatus.DONE
    assert PanelSeat.objects.count() == 4


def _cli(folder: Path, draw: Draw, assembly) -> dict:
    (folder / f"pool-{draw.number}.csv").write_bytes(bytes(draw.pool_file))
    (folder / f"quotas-{draw.number}.csv").write_bytes(bytes(draw.quotas_file))
    command = services.verify_command(draw, assembly).split()
    assert command[:2] == ["commonground", "sortition"]
    output = subprocess.run(
        [sys.executable, "-m", "commonground.cli", *command[1:], "--quiet"],
        cwd=folder,
        capture_output=True,
        check=True,
        timeout=300,
    )
    return json.loads(output.stdout)


@pytest.mark.parametrize("households", [False, True])
def test_published_files_rerun_by_the_cli_give_the_same_panel_and_probabilities(
    group, organiser, tmp_path, households
):
    assembly = open_assembly(group, organiser, one_per_household=households)
    # Uneven pool: the probabilities differ from person to person.
    people = [
        ("female", "young"),
        ("female", "old"),
        ("female", "old"),
        ("male", "young"),
        ("male", "young"),
        ("male", "young"),
        ("male", "old"),
        ("male", "young"),
        ("female", "young"),
    ]
    for i, (gender, age) in enumerate(people):
        register(
            assembly,
            f"P{i}",
            gender,
            age,
            address=f"{i // 2} High St" if households else "",
        )
    draw = run_draw(organiser, assembly, "98765432109876543210")
    assert draw.status == DrawStatus.DONE, draw.error
    if households:
        assert ",h1" in bytes(draw.pool_file).decode()
        assert "High" not in bytes(draw.pool_file).decode()
    result = _cli(tmp_path, draw, assembly)
    assert sorted(result["drawn"]["panel"]) == draw.result["panel"]
    assert result["drawn"]["index"] == draw.result["index"]
    assert result["lottery"]["sha256"] == draw.lottery_sha256
    assert {
        pid: person["probability"] for pid, person in result["people"].items()
    } == draw.result["probabilities"]
    if households:
        seated = Registrant.objects.filter(seats__isnull=False)
        houses = [r.household_key for r in seated]
        assert len(houses) == len(set(houses))


def test_draw_before_the_freeze_is_refused(client, group, organiser):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    client.force_login(organiser)
    response = client.post(reverse("assemblies:draw_start", args=[assembly.slug, 1]))
    assert response.status_code == 404
    assert not Draw.objects.exists()
    draft = open_assembly(group, organiser, title="Second")
    draft.status = Status.DRAFT
    draft.save()
    with pytest.raises(services.AssemblyRefused, match="Open recruitment"):
        services.draw_commit(actor=organiser, assembly=draft)


def test_a_second_initial_draw_is_refused(client, group, organiser):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    with pytest.raises(services.AssemblyRefused, match="already has its initial draw"):
        services.draw_commit(actor=organiser, assembly=assembly)
    client.force_login(organiser)
    response = client.post(
        reverse("assemblies:draw_commit", args=[assembly.slug]), {"kind": "initial"}
    )
    assert response.status_code == 302
    assert Draw.objects.count() == 1
    services.draw_start(actor=organiser, draw=draw, random_number="5")
    with pytest.raises(services.AssemblyRefused, match="already been run"):
        services.draw_start(actor=organiser, draw=draw, random_number="6")
    assert Draw.objects.get().random_number == "5"


def test_impossible_quotas_are_refused_naming_the_quota_and_relaxation(
    group, organiser
):
    assembly = open_assembly(group, organiser)
    # One woman only: the minimum of 2 women cannot be met.
    register(assembly, "Woman", "female", "old")
    for n in range(6):
        register(assembly, f"Man {n}", "male", "young" if n % 2 else "old")
    with pytest.raises(services.AssemblyRefused) as error:
        services.draw_commit(actor=organiser, assembly=assembly)
    message = str(error.value)
    assert "conflicting: gender" in message
    assert "gender = female: lower the minimum from 2 to 1" in message
    assert "gender = male: raise the maximum from 2 to 3" in message
    assert not Draw.objects.exists()
    assembly.refresh_from_db()
    assert assembly.status == Status.RECRUITING


def test_random_number_must_be_digits(group, organiser):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    for bad in ["", "12a", "-5", "1.5", "٣"]:
        with pytest.raises(Exception):  # noqa: B017 - ValidationError
            services.draw_start(actor=organiser, draw=draw, random_number=bad)
    assert Draw.objects.get().status == DrawStatus.COMMITTED


def test_replacement_draw_fills_empty_seats_keeping_the_quotas(group, organiser):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    first = run_draw(organiser, assembly, "77")
    seats = list(PanelSeat.objects.select_related("registrant"))
    woman = next(s for s in seats if s.registrant.features["gender"] == "female")
    with pytest.raises(services.AssemblyRefused, match="nobody has dropped out"):
        services.draw_commit(actor=organiser, assembly=assembly, kind="replacement")
    services.seat_drop_out(actor=organiser, seat=woman, reason="Moved away")
    replacement = run_draw(organiser, assembly, "31", kind="replacement")
    assert replacement.number == 2 and replacement.seat_count == 1
    quotas = bytes(replacement.quotas_file).decode()
    assert "gender,female,1,1" in quotas and "gender,male,0,0" in quotas
    pool = bytes(replacement.pool_file).decode()
    assert all(s.registrant.pseudonym not in pool for s in seats)
    woman.refresh_from_db()
    assert woman.status == SeatStatus.DROPPED_OUT
    new_seat = woman.replaced_by
    assert new_seat is not None and new_seat.draw == replacement
    assert new_seat.registrant.features["gender"] == "female"
    held = PanelSeat.objects.filter(status=SeatStatus.SEATED)
    assert held.count() == 4
    assert first.result["panel"] != replacement.result["panel"]


def test_draw_page_shows_progress_then_the_result_and_the_command(
    client, group, organiser, django_capture_on_commit_callbacks
):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    client.force_login(organiser)
    response = client.post(reverse("assemblies:draw_commit", args=[assembly.slug]))
    url = reverse("assemblies:draw", args=[assembly.slug, 1])
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert Draw.objects.get().pool_sha256 in page
    assert "Run the draw with this number" in page
    draw = Draw.objects.get()
    # Running, before the worker picks it up: the page polls and says so.
    services.draw_start(actor=organiser, draw=draw, random_number="42")
    page = client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert '<meta http-equiv="refresh"' in page
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="draw-status"')
    services.draw_run(draw_id=draw.pk)
    client.logout()
    page = client.get(url).content.decode()
    assert "every 2s" not in page
    assert "commonground sortition --people pool-1.csv --quotas quotas-1.csv" in page
    assert "--draw 42" in page
    probabilities = client.get(
        reverse("assemblies:draw_file", args=[assembly.slug, 1, "probabilities"])
    ).content.decode()
    rows = probabilities.splitlines()
    assert rows[0] == "id,probability,drawn" and len(rows) == 13
    assert sum(int(row.rsplit(",", 1)[1]) for row in rows[1:]) == 4
    for name in ("pool", "quotas", "lottery"):
        file = client.get(
            reverse("assemblies:draw_file", args=[assembly.slug, 1, name])
        )
        assert file.status_code == 200
    assert (
        client.get(
            reverse("assemblies:draw_file", args=[assembly.slug, 1, "secret"])
        ).status_code
        == 404
    )


def test_start_through_the_page_runs_the_task(
    client, group, organiser, django_capture_on_commit_callbacks
):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    client.force_login(organiser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("assemblies:draw_start", args=[assembly.slug, draw.number]),
            {"random_number": "2026"},
        )
    assert response.status_code == 302
    draw.refresh_from_db()
    assert draw.status == DrawStatus.DONE
    assert draw.progress == 1.0


def test_progress_is_written_while_the_engine_works(group, organiser, monkeypatch):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    services.draw_start(actor=organiser, draw=draw, random_number="1")
    from commonground.assemblies.services import draws as draw_services
    from commonground.engines.sortition import Progress

    seen: list[float] = []
    real = draw_services.select_panel

    def watching(*args, **kwargs):
        report = kwargs["progress"]
        report(Progress("panels", 0.5, "half way", 1.0))
        seen.append(Draw.objects.get(pk=draw.pk).progress)
        return real(*args, **kwargs)

    monkeypatch.setattr(draw_services, "select_panel", watching)
    services.draw_run(draw_id=draw.pk)
    assert seen and 0.5 < seen[0] < 0.6
    assert Draw.objects.get(pk=draw.pk).status == DrawStatus.DONE


def test_a_failed_draw_draws_nobody(group, organiser, monkeypatch):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    services.draw_start(actor=organiser, draw=draw, random_number="1")
    from commonground.assemblies.services import draws as draw_services
    from commonground.engines.sortition import SortitionTimeLimitError

    def out_of_time(*args, **kwargs):
        raise SortitionTimeLimitError("stopped at the time limit")

    monkeypatch.setattr(draw_services, "select_panel", out_of_time)
    assert services.draw_run(draw_id=draw.pk) == DrawStatus.FAILED
    assert not PanelSeat.objects.exists()
    assert "time limit" in Draw.objects.get().error


def test_a_draw_cut_short_by_the_clock_is_not_published(group, organiser, monkeypatch):
    # The distribution found before a time limit depends on the machine's speed;
    # publishing it would give a lottery nobody else can reproduce.
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    services.draw_start(actor=organiser, draw=draw, random_number="1")
    from commonground.assemblies.services import draws as draw_services

    real = draw_services.select_panel

    def cut_short(*args, **kwargs):
        result = real(*args, **kwargs)
        object.__setattr__(result, "status", "time_limit")
        return result

    monkeypatch.setattr(draw_services, "select_panel", cut_short)
    assert services.draw_run(draw_id=draw.pk) == DrawStatus.FAILED
    assert not PanelSeat.objects.exists()
    assert "could not be re-run" in Draw.objects.get().error


def test_the_draw_invites_seated_people_without_an_account(
    group, organiser, django_capture_on_commit_callbacks, settings
):
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    with django_capture_on_commit_callbacks(execute=True):
        run_draw(organiser, assembly)
    seated = Registrant.objects.filter(
        assembly=assembly, seats__status=SeatStatus.SEATED
    )
    without_account = {r.email for r in seated if r.user_id is None}
    assert without_account
    invited = {address for message in mail.outbox for address in message.to}
    assert without_account <= invited


def test_members_and_visitors_cannot_run_draws(client, group, organiser, members):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    client.force_login(members[0])
    response = client.post(reverse("assemblies:draw_commit", args=[assembly.slug]))
    assert response.status_code == 404
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    response = client.post(
        reverse("assemblies:draw_start", args=[assembly.slug, draw.number]),
        {"random_number": "1"},
    )
    assert response.status_code == 404
    assert Draw.objects.get().status == DrawStatus.COMMITTED


def test_queueing_a_running_draw_again_is_for_organisers_and_logged(
    group, organiser, members, monkeypatch
):
    from django.core.exceptions import PermissionDenied

    from commonground.assemblies.services import draws as draw_services
    from commonground.assemblies.services.errors import AssemblyRefused

    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    with pytest.raises(AssemblyRefused):  # committed, not running yet
        draw_services.draw_requeue(actor=organiser, draw=draw)
    draw = services.draw_start(actor=organiser, draw=draw, random_number="7")
    queued: list[int] = []
    monkeypatch.setattr(draw_services, "queue_run", queued.append)
    with pytest.raises((PermissionDenied, AssemblyRefused)):
        draw_services.draw_requeue(actor=members[0], draw=draw)
    assert queued == []
    draw_services.draw_requeue(actor=organiser, draw=draw)
    assert queued == [draw.pk]
    entry = AuditEntry.objects.get(action="assembly.draw_requeued")
    assert entry.actor_id == organiser.pk
    # the task is idempotent: run twice, one panel
    services.draw_run(draw_id=draw.pk)
    services.draw_run(draw_id=draw.pk)
    assert PanelSeat.objects.filter(assembly=assembly).count() == assembly.panel_size
