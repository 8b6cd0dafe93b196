"""Integration tests through HTTP: pages, casting, refusals, embargo and downloads."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from commonground.decisions import services
from commonground.decisions.models import Ballot, Election, Participation, Proposal
from commonground.members.models import Role

pytestmark = pytest.mark.django_db


def ranks(*positions: int) -> dict[str, str]:
    return {
        f"rank_{position}": str(rank)
        for rank, position in enumerate(positions, start=1)
    }


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def private_ballot(open_ballot, group):
    from commonground.members.models import Group

    Group.objects.filter(pk=group.pk).update(is_public=False)
    group.is_public = False
    return open_ballot()


def test_a_member_sees_the_ballot_and_casts_with_a_tracker(open_ballot, members):
    election = open_ballot()
    client = logged_in(members[0])
    page = client.get(reverse("decisions:election_detail", args=[election.pk]))
    assert page.status_code == 200
    assert 'name="rank_0"' in page.text and "Not ranked" in page.text
    assert election.seal.definition_sha256 in page.text
    response = client.post(
        reverse("decisions:election_vote", args=[election.pk]), ranks(1, 0)
    )
    assert response.status_code == 201
    ballot = Ballot.objects.get(election=election)
    assert response.context["receipt"].tracker in response.text
    assert json.loads(ballot.payload) == {"ranking": [[1], [0]]}


def test_junk_posts_through_the_same_proxy_do_not_block_a_members_cast(
    open_ballot, members, settings
):
    """Issue 17.7: behind a TLS proxy every client has the proxy's address; an
    anonymous client spending that address's write allowance (CSRF-refused junk
    does not even count) leaves a signed-in member's allowance untouched."""
    settings.WRITE_THROTTLE_PER_MINUTE = 100
    election = open_ballot()
    url = reverse("decisions:election_vote", args=[election.pk])
    proxy = "10.0.0.1"
    refused = Client(enforce_csrf_checks=True, REMOTE_ADDR=proxy)
    assert {refused.post(url, ranks(0)).status_code for _ in range(150)} == {403}
    junk = Client(REMOTE_ADDR=proxy)
    statuses = [junk.post(url, ranks(0)).status_code for _ in range(101)]
    assert 429 not in statuses[:100] and statuses[100] == 429
    member = Client(REMOTE_ADDR=proxy)
    member.force_login(members[0])
    assert member.post(url, ranks(1, 0)).status_code == 201
    assert Ballot.objects.filter(election=election).count() == 1


def test_htmx_cast_returns_the_receipt_fragment(open_ballot, members):
    election = open_ballot()
    response = logged_in(members[0]).post(
        reverse("decisions:election_vote", args=[election.pk]),
        ranks(0),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 201
    assert "<html" not in response.text and 'id="tracker"' in response.text


def test_field_errors_show_next_to_each_rank_and_nothing_is_stored(
    open_ballot, members
):
    election = open_ballot()
    response = logged_in(members[0]).post(
        reverse("decisions:election_vote", args=[election.pk]),
        {"rank_0": "1", "rank_2": "1"},
    )
    assert response.status_code == 200
    assert (
        'id="id_rank_0_error"' in response.text
        and 'id="id_rank_2_error"' in response.text
    )
    assert 'aria-invalid="true"' in response.text
    assert Ballot.objects.count() == 0 and Participation.objects.count() == 0


def test_cast_for_a_missing_option_is_refused(open_ballot, members):
    election = open_ballot()
    response = logged_in(members[0]).post(
        reverse("decisions:election_vote", args=[election.pk]), {"rank_17": "1"}
    )
    assert response.status_code == 200
    assert "not on this ballot" in response.text
    assert Ballot.objects.count() == 0


def test_cast_after_close_is_refused_with_a_clear_message(open_ballot, members):
    election = open_ballot()
    with time_machine.travel(election.closes_at + timedelta(seconds=1)):
        response = logged_in(members[0]).post(
            reverse("decisions:election_vote", args=[election.pk]), ranks(0)
        )
    assert response.status_code == 409
    assert "Voting closed at" in response.text and "not recorded" in response.text
    assert Ballot.objects.count() == 0 and Participation.objects.count() == 0


def test_csrf_is_enforced_on_casting(open_ballot, members):
    election = open_ballot()
    client = Client(enforce_csrf_checks=True)
    client.force_login(members[0])
    response = client.post(
        reverse("decisions:election_vote", args=[election.pk]), ranks(0)
    )
    assert response.status_code == 403
    assert Ballot.objects.count() == 0
    page = client.get(reverse("decisions:election_detail", args=[election.pk]))
    token = page.cookies["csrftoken"].value
    accepted = client.post(
        reverse("decisions:election_vote", args=[election.pk]),
        {**ranks(0), "csrfmiddlewaretoken": token},
    )
    assert accepted.status_code == 201


def test_a_non_member_cannot_see_or_cast_in_a_private_groups_ballot(
    private_ballot, outsider, group
):
    client = logged_in(outsider)
    election = private_ballot
    missing = Election.objects.order_by("-pk").first().pk + 100
    for pk in (election.pk, missing):
        for name in ("election_detail", "election_results"):
            assert (
                client.get(reverse(f"decisions:{name}", args=[pk])).status_code == 404
            )
        assert (
            client.post(
                reverse("decisions:election_vote", args=[pk]), ranks(0)
            ).status_code
            == 404
        )
        url = reverse("decisions:election_download", args=[pk, "ballots.blt"])
        assert client.get(url).status_code == 404
    assert (
        client.get(reverse("decisions:group_decisions", args=[group.slug])).status_code
        == 404
    )
    assert Ballot.objects.count() == 0


def test_a_non_member_of_a_public_group_sees_but_cannot_cast(open_ballot, outsider):
    election = open_ballot()
    client = logged_in(outsider)
    page = client.get(reverse("decisions:election_detail", args=[election.pk]))
    assert page.status_code == 200 and "not on the roll" in page.text
    response = client.post(
        reverse("decisions:election_vote", args=[election.pk]), ranks(0)
    )
    assert response.status_code == 403
    assert Ballot.objects.count() == 0


@pytest.mark.parametrize("who", ["member", "organiser", "admin", "superuser"])
def test_nobody_sees_results_before_close_but_everyone_after(
    open_ballot, members, organiser, group, who
):
    from factories import UserFactory, make_role

    election = open_ballot()
    services.ballot_cast(member=members[0], election=election, marks=ranks(0))
    viewer = {
        "member": members[1],
        "organiser": organiser,
        "admin": make_role(group, Role.ADMIN) if who == "admin" else None,
        "superuser": UserFactory(is_superuser=True, is_staff=True)
        if who == "superuser"
        else None,
    }[who]
    if who in ("admin", "superuser"):
        from allauth.mfa.models import Authenticator

        Authenticator.objects.create(
            user=viewer,
            type=Authenticator.Type.TOTP,
            data={"secret": "JBSWY3DPEHPK3PXP"},
        )
    client = logged_in(viewer)
    urls = [reverse("decisions:election_results", args=[election.pk])] + [
        reverse("decisions:election_download", args=[election.pk, name])
        for name in (
            "ballots.blt",
            "ballots.csv",
            "result.json",
            "trackers.txt",
            "summary-rctab.json",
        )
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert "Ann" not in client.get(urls[0]).text
    with time_machine.travel(election.closes_at + timedelta(seconds=1)):
        for url in urls:
            assert client.get(url).status_code == 200, url


def test_results_page_shows_winners_rounds_trackers_hashes_and_chart_data(
    open_ballot, members
):
    election = open_ballot(options=("Ann", "Bo", "Cy"))
    receipts = [
        services.ballot_cast(member=m, election=election, marks=p)
        for m, p in zip(
            members,
            [ranks(0), ranks(0, 1), ranks(1), ranks(1, 0), ranks(2, 1)],
            strict=False,
        )
    ]
    with time_machine.travel(election.closes_at + timedelta(seconds=1)):
        response = logged_in(members[0]).get(
            reverse("decisions:election_results", args=[election.pk])
        )
    assert response.status_code == 200
    text = response.text
    assert "Chosen: <strong>Bo</strong>" in text
    assert all(receipt.tracker in text for receipt in receipts)
    assert '<script id="result-chart-data" type="application/json">' in text
    assert "echarts.min.js" in text and "js/decisions.js" in text
    assert "<caption>Votes for each candidate after each round</caption>" in text
    assert "had the fewest votes and is excluded" in text
    result = response.context["view"].result
    assert result.ballots_sha256 in text
    assert "<script>" not in text


def test_downloads_are_attachments_and_the_definition_is_published_at_opening(
    open_ballot, members
):
    election = open_ballot()
    client = logged_in(members[0])
    definition = client.get(
        reverse("decisions:election_download", args=[election.pk, "definition.json"])
    )
    assert definition.status_code == 200
    assert "attachment" in definition["Content-Disposition"]
    assert json.loads(definition.content)["options"][0]["label"] == "Ann"
    assert (
        client.get(
            reverse("decisions:election_download", args=[election.pk, "x.exe"])
        ).status_code
        == 404
    )


def test_organiser_creates_a_ballot_through_the_form_and_members_cannot(
    group, organiser, members
):
    url = reverse("decisions:election_new", args=[group.slug])
    assert logged_in(members[0]).get(url).status_code == 404
    client = logged_in(organiser)
    bad = client.post(
        url,
        {
            "kind": "question",
            "title": "T",
            "method": "irv",
            "options": "Only one",
            "seats": 1,
            "rules": "scottish",
            "quorum_percent": 0,
            "majority_percent": 50,
            "required_seconds": 1,
        },
    )
    assert bad.status_code == 200 and "at least two options" in bad.text
    now = timezone.now()
    response = client.post(
        url,
        {
            "kind": "question",
            "title": "Which day?",
            "method": "approval",
            "options": "Monday\nTuesday",
            "seats": 1,
            "rules": "scottish",
            "quorum_percent": 0,
            "majority_percent": 50,
            "required_seconds": 1,
            "allow_revote": "on",
            "opens_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    election = Election.objects.get(title="Which day?")
    assert response.status_code == 302 and response.url == reverse(
        "decisions:election_detail", args=[election.pk]
    )
    assert election.seal is not None


def test_proposal_flow_through_the_pages(group, members, organiser):
    client = logged_in(members[0])
    response = client.post(
        reverse("decisions:proposal_new", args=[group.slug]),
        {
            "title": "Free bikes",
            "text": "We should *share* bikes.",
            "coauthors": [members[1].pk],
            "support_share_percent": 10,
            "support_period_days": 30,
            "voting_days": 7,
        },
    )
    proposal = Proposal.objects.get(title="Free bikes")
    assert response.status_code == 302
    assert (
        logged_in(members[2])
        .get(reverse("decisions:proposal_detail", args=[proposal.pk]))
        .status_code
        == 404
    )
    client.post(reverse("decisions:proposal_publish", args=[proposal.pk]))
    page = logged_in(members[2]).get(
        reverse("decisions:proposal_detail", args=[proposal.pk])
    )
    assert page.status_code == 200 and "Support this proposal" in page.text
    logged_in(members[2]).post(
        reverse("decisions:amendment_new", args=[proposal.pk]),
        {"title": "Helmets", "text": "Add helmets."},
    )
    logged_in(members[2]).post(
        reverse("decisions:proposal_support", args=[proposal.pk])
    )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.BALLOT  # 10% of 7 members = 1 supporter
    assert Election.objects.filter(proposal=proposal).count() == 2


def test_nomination_flow_through_the_pages(group, organiser, members):
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="election",
        spec=services.ElectionSpec(
            title="Delegates",
            method="stv",
            seats=2,
            nominations_open_at=now - timedelta(hours=1),
            nominations_close_at=now + timedelta(days=1),
            opens_at=now + timedelta(days=2),
            closes_at=now + timedelta(days=3),
        ),
    )
    logged_in(members[0]).post(
        reverse("decisions:nomination_new", args=[election.pk]),
        {"statement": "I **care**."},
    )
    nomination = election.nominations.get()
    logged_in(members[1]).post(
        reverse("decisions:nomination_second", args=[nomination.pk])
    )
    page = logged_in(members[2]).get(
        reverse("decisions:election_detail", args=[election.pk])
    )
    assert "1 second" in page.text and members[0].public_name in page.text


def test_group_page_links_to_decisions_and_the_dashboard_lists_open_ballots(
    open_ballot, members, group
):
    election = open_ballot()
    client = logged_in(members[0])
    group_page = client.get(reverse("members:group", args=[group.slug]))
    assert reverse("decisions:group_decisions", args=[group.slug]) in group_page.text
    dashboard = client.get(reverse("core:dashboard"))
    assert election.title in dashboard.text
    services.ballot_cast(member=members[0], election=election, marks=ranks(0))
    assert election.title not in client.get(reverse("core:dashboard")).text


def test_group_decisions_page_runs_a_fixed_number_of_queries(
    open_ballot, members, group, django_assert_max_num_queries
):
    for _ in range(3):
        open_ballot()
    client = logged_in(members[0])
    url = reverse("decisions:group_decisions", args=[group.slug])
    client.get(url)
    # 12 for the page and 1 for the header's unread-notification count.
    with django_assert_max_num_queries(13):
        assert client.get(url).status_code == 200
    for _ in range(5):
        open_ballot()
    with django_assert_max_num_queries(13):
        assert client.get(url).status_code == 200


def test_proposals_and_hustings_have_threads_for_members_only(
    group, organiser, members, outsider
):
    from commonground.discussion import services as discussion

    proposal = services.proposal_create(
        author=members[0], group=group, title="P", text="t"
    )
    proposal = services.proposal_publish(actor=members[0], proposal=proposal)
    comment = discussion.comment_post(
        author=members[1], target=proposal, body="Good idea"
    )
    page = logged_in(members[2]).get(
        reverse("decisions:proposal_detail", args=[proposal.pk])
    )
    assert "Good idea" in page.text and "Add a comment" in page.text
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        discussion.comment_post(author=outsider, target=proposal, body="Spam")
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="election",
        spec=services.ElectionSpec(
            title="Delegates",
            method="stv",
            seats=1,
            nominations_open_at=now - timedelta(hours=2),
            nominations_close_at=now - timedelta(hours=1),
            opens_at=now + timedelta(days=1),
            closes_at=now + timedelta(days=2),
        ),
    )
    question = discussion.comment_post(
        author=members[3], target=election, body="What about rents?"
    )
    discussion.comment_post(
        author=members[0], target=election, body="Caps.", parent=question
    )
    hustings = logged_in(members[4]).get(
        reverse("decisions:election_detail", args=[election.pk])
    )
    assert (
        "Hustings" in hustings.text
        and "What about rents?" in hustings.text
        and "Caps." in hustings.text
    )
    assert comment.pk


def test_markdown_in_proposals_and_statements_is_rendered_safely(group, members):
    proposal = services.proposal_create(
        author=members[0],
        group=group,
        title="<b>Bold</b>",
        text="Hello <script>alert('x')</script> [link](javascript:alert(1)) **strong**",
    )
    page = logged_in(members[0]).get(
        reverse("decisions:proposal_detail", args=[proposal.pk])
    )
    assert "<script>alert" not in page.text
    assert 'href="javascript:' not in page.text
    assert "<strong>strong</strong>" in page.text
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page.text


def test_data_export_lists_participation_but_never_ballot_contents(
    open_ballot, members
):
    election = open_ballot(
        options=("Sentinel-Alpha-Candidate", "Sentinel-Beta-Candidate")
    )
    services.ballot_cast(member=members[0], election=election, marks=ranks(1, 0))
    export = logged_in(members[0]).get("/me/export/")
    assert export.status_code == 200
    data = json.loads(export.content)["decisions"]
    assert data["ballots_taken_part_in"][0]["election"] == election.pk
    assert "ranking" not in export.text and "Sentinel-Beta" not in export.text


def test_election_page_runs_a_fixed_number_of_queries_whatever_the_nominations(
    group, organiser, members, django_assert_max_num_queries
):
    from factories import make_member

    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="election",
        spec=services.ElectionSpec(
            title="Delegates",
            method="stv",
            seats=2,
            nominations_open_at=now - timedelta(hours=1),
            nominations_close_at=now + timedelta(days=1),
            opens_at=now + timedelta(days=2),
            closes_at=now + timedelta(days=3),
        ),
    )
    client = logged_in(members[0])
    url = reverse("decisions:election_detail", args=[election.pk])

    def nominate(count: int) -> None:
        for _ in range(count):
            nominee = make_member(group)
            nomination = services.nomination_submit(
                member=nominee, election=election, statement="Me"
            )
            services.nomination_second(member=members[1], nomination=nomination)

    nominate(2)
    client.get(url)
    with django_assert_max_num_queries(25) as few:
        client.get(url)
    nominate(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_results_page_says_when_the_count_was_refused_for_tampering(
    open_ballot, members
):
    from django.db import connection

    from commonground.decisions.models import Option

    election = open_ballot()
    services.ballot_cast(member=members[0], election=election, marks=ranks(0))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Option._meta.db_table} SET label = %s WHERE election_id = %s AND position = 0",
            ["Mallory", election.pk],
        )
    with time_machine.travel(election.closes_at + timedelta(seconds=1)):
        response = logged_in(members[0]).get(
            reverse("decisions:election_results", args=[election.pk])
        )
    assert response.status_code == 202
    assert "integrity mismatch" in response.text


def test_dashboard_does_not_offer_a_ballot_to_a_member_who_joined_after_it_opened(
    open_ballot, group
):
    from factories import make_member

    election = open_ballot()
    late = make_member(group)
    assert election.title not in logged_in(late).get(reverse("core:dashboard")).text


def test_organisers_edit_a_ballot_until_it_opens_and_then_it_is_frozen(
    group, organiser, members
):
    from commonground.audit.models import AuditEntry
    from commonground.decisions.models import Option

    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title="Q",
            method="approval",
            options=["A", "B"],
            opens_at=now + timedelta(minutes=1),
            closes_at=now + timedelta(days=1),
        ),
    )
    url = reverse("decisions:election_edit", args=[election.pk])
    assert logged_in(members[0]).get(url).status_code == 404
    client = logged_in(organiser)
    response = client.post(
        url, {"title": "Q2", "description": "", "options": "A\nB\nC"}
    )
    assert response.status_code == 302
    assert list(
        Option.objects.filter(election=election).values_list("label", flat=True)
    ) == ["A", "B", "C"]
    with time_machine.travel(election.opens_at + timedelta(seconds=1)):
        frozen = client.post(url, {"title": "Q3", "description": "", "options": "X\nY"})
    assert frozen.status_code == 409 and "frozen" in frozen.text
    assert Election.objects.get(pk=election.pk).title == "Q2"
    assert AuditEntry.objects.filter(action="election.edit_refused").count() == 1


def test_every_state_changing_route_refuses_a_post_without_a_csrf_token(
    open_ballot, group, members
):
    from commonground.decisions.models import Amendment, Nomination

    election = open_ballot()
    proposal = services.proposal_publish(
        actor=members[0],
        proposal=services.proposal_create(
            author=members[0], group=group, title="P", text="t"
        ),
    )
    amendment = services.amendment_propose(
        member=members[1], proposal=proposal, title="A", text="a"
    )
    routes = [
        ("election_vote", election.pk),
        ("election_open", election.pk),
        ("election_edit", election.pk),
        ("nomination_new", election.pk),
        ("proposal_publish", proposal.pk),
        ("proposal_support", proposal.pk),
        ("proposal_send", proposal.pk),
        ("amendment_new", proposal.pk),
        ("amendment_decide", amendment.pk),
        ("nomination_second", 1),
        ("nomination_withdraw", 1),
        ("nomination_reject", 1),
        ("proposal_new", group.slug),
        ("election_new", group.slug),
        ("proposal_edit", proposal.pk),
    ]
    client = Client(enforce_csrf_checks=True)
    client.force_login(members[0])
    for name, arg in routes:
        response = client.post(
            reverse(f"decisions:{name}", args=[arg]), {"title": "x", "text": "y"}
        )
        assert response.status_code == 403, name
    assert Ballot.objects.count() == 0 and Nomination.objects.count() == 0
    assert Amendment.objects.get(pk=amendment.pk).status == Amendment.Status.PROPOSED


def test_a_coauthor_who_is_not_a_member_is_an_error_on_the_form(
    group, members, outsider
):
    client = logged_in(members[0])
    response = client.post(
        reverse("decisions:proposal_new", args=[group.slug]),
        {
            "title": "T",
            "text": "x",
            "coauthors": [outsider.pk],
            "support_share_percent": 10,
            "support_period_days": 30,
            "voting_days": 7,
        },
    )
    assert response.status_code == 200
    assert not Proposal.objects.exists()


# --- the proposal edit form (issue 17.8) ---------------------------------------------


def _draft(author, group, **extra):
    return services.proposal_create(
        author=author, group=group, title="Draft", text="t", **extra
    )


def test_the_edit_form_opens_only_for_the_authors_of_a_draft(group, members):
    draft = _draft(members[0], group, coauthors=[members[1]])
    url = reverse("decisions:proposal_edit", args=[draft.pk])
    assert logged_in(members[0]).get(url).status_code == 200
    assert logged_in(members[1]).get(url).status_code == 200
    assert logged_in(members[2]).get(url).status_code == 404
    published = services.proposal_publish(actor=members[0], proposal=draft)
    for member in members[:3]:  # published: amendments only, for everyone
        assert logged_in(member).get(url).status_code == 404, member
    assert (
        logged_in(members[2]).post(url, {"title": "Hijack", "text": "x"}).status_code
        == 404
    )
    published.refresh_from_db()
    assert published.title == "Draft"


def test_the_coauthor_picker_never_lists_a_hidden_name(group, members):
    from commonground.members.models import User

    hidden = members[3]
    hidden.display_name = "Hidden Hana"
    hidden.visibility = User.Visibility.HIDDEN
    hidden.save()
    client = logged_in(members[0])
    page = client.get(reverse("decisions:proposal_new", args=[group.slug]))
    assert page.status_code == 200
    assert "Hidden Hana" not in page.text
    assert members[1].public_name in page.text
    # Picking the hidden member anyway (a crafted POST) is an invalid choice.
    response = client.post(
        reverse("decisions:proposal_new", args=[group.slug]),
        {
            "title": "T",
            "text": "x",
            "coauthors": [hidden.pk],
            "support_share_percent": 10,
            "support_period_days": 30,
            "voting_days": 7,
        },
    )
    assert response.status_code == 200
    assert not Proposal.objects.exists()


def test_a_coauthor_who_hides_their_name_later_stays_on_the_draft(group, members):
    from commonground.members.models import User

    draft = _draft(members[0], group, coauthors=[members[1]])
    members[1].visibility = User.Visibility.HIDDEN
    members[1].save()
    client = logged_in(members[0])
    url = reverse("decisions:proposal_edit", args=[draft.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"title": "Draft 2", "text": "t2", "coauthors": [members[1].pk]}
    )
    assert response.status_code == 302
    assert list(draft.coauthors.all()) == [members[1]]
