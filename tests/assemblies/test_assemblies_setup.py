"""Setting an assembly up: settings, quotas entered or imported from population
shares (errors name line and column), opening recruitment; all logged."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from assemblies.assembly_support import QUOTAS, make_assembly
from commonground.assemblies import services
from commonground.assemblies.models import Assembly, Category, Status
from commonground.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_organiser_creates_a_draft_with_quotas_and_it_is_logged(group, organiser):
    assembly = make_assembly(group, organiser)
    assert assembly.status == Status.DRAFT
    assert assembly.slug == "leeds-transport-assembly"
    assert Category.objects.filter(feature__assembly=assembly).count() == 4
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert "assembly.created" in actions and "assembly.quotas_changed" in actions


def test_members_cannot_create_an_assembly(group, members):
    with pytest.raises(PermissionDenied):
        services.assembly_create(
            actor=members[0],
            group=group,
            settings=services.AssemblySettings(title="T", question="Q", panel_size=4),
        )


def test_timetable_must_run_in_order(group, organiser):
    from django.utils import timezone

    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        make_assembly(
            group,
            organiser,
            recruitment_closes_at=now + timezone.timedelta(days=5),
            draw_at=now + timezone.timedelta(days=2),
        )
    assert "draw_at" in error.value.message_dict


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        (3, 2, "between 0 and the maximum"),
        (0, 9, "more than the 4 seats"),
        (3, 3, "minimums add up to more"),
        (0, 1, "maximums add up to fewer"),
    ],
)
def test_impossible_quotas_are_refused_when_entered(
    group, organiser, low, high, message
):
    assembly = make_assembly(group, organiser)
    spec = services.FeatureSpec(
        "gender",
        "Gender",
        (
            services.CategorySpec("female", "F", low, high),
            services.CategorySpec("male", "M", low, high),
        ),
    )
    with pytest.raises(ValidationError) as error:
        services.quotas_set(actor=organiser, assembly=assembly, features=[spec])
    assert message in " ".join(error.value.messages)


def test_population_shares_become_min_and_max_seats():
    # 48.5 % of 10 seats = 4.85 -> 4 to 5; 51.5 % -> 5.15 -> 5 to 6; the age
    # shares are fractions that do not add up to 1 and are scaled: 1/4 -> 2.5 -> 2-3.
    text = (
        "feature,value,share,feature_label,value_label\n"
        "gender,female,48.5%,Gender,Female\n"
        "gender,male,51.5,Gender,Male\n"
        "age,young,0.1,Age,Young\n"
        "age,old,0.3,Age,Old\n"
    )
    specs = services.quotas_from_shares(text, 10)
    assert [(s.key, s.label) for s in specs] == [("gender", "Gender"), ("age", "Age")]
    assert [(c.value, c.minimum, c.maximum) for c in specs[0].categories] == [
        ("female", 4, 5),
        ("male", 5, 6),
    ]
    assert [(c.value, c.minimum, c.maximum) for c in specs[1].categories] == [
        ("young", 2, 3),
        ("old", 7, 8),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feature,value\ngender,f\n", "Line 1: the column 'share' is missing."),
        ("feature,value,share\ngender,f,abc\n", "Line 2, column 'share': 'abc'"),
        ("feature,value,share\ngender,f,10\ngender,m\n", "Line 3: 2 columns"),
        ("feature,value,share\ngender,,10\n", "Line 2, column 'value': it is empty."),
        ("feature,value,share\ngender,f,1\ngender,f,2\n", "Line 3, column 'value'"),
        (
            "feature,value,share\nid,f,1\n",
            "Line 2, column 'feature': 'id' is reserved.",
        ),
        ("", "The file is empty."),
    ],
)
def test_bad_shares_files_name_the_line_and_column(text, message):
    with pytest.raises(ValidationError) as error:
        services.quotas_from_shares(text, 10)
    assert message in " ".join(error.value.messages)


def test_settings_and_quotas_freeze_once_recruitment_opens(group, organiser):
    assembly = make_assembly(group, organiser)
    services.recruitment_open(actor=organiser, assembly=assembly)
    with pytest.raises(services.AssemblyRefused):
        services.quotas_set(actor=organiser, assembly=assembly, features=QUOTAS)
    with pytest.raises(services.AssemblyRefused):
        services.assembly_update(
            actor=organiser,
            assembly=assembly,
            settings=services.AssemblySettings(
                title=assembly.title,
                question=assembly.question,
                panel_size=6,
                slug=assembly.slug,
                kind=assembly.kind,
                seed_source=assembly.seed_source,
            ),
        )
    # The source of the random number may still be announced.
    services.assembly_update(
        actor=organiser,
        assembly=assembly,
        settings=services.AssemblySettings(
            title=assembly.title,
            question=assembly.question,
            panel_size=4,
            slug=assembly.slug,
            kind=assembly.kind,
            seed_source="The EuroMillions draw of Friday",
        ),
    )
    entry = AuditEntry.objects.filter(action="assembly.setting_changed").get()
    assert entry.data["changes"]["seed_source"][1] == "The EuroMillions draw of Friday"


def test_recruitment_needs_quotas(group, organiser):
    assembly = services.assembly_create(
        actor=organiser,
        group=group,
        settings=services.AssemblySettings(title="T", question="Q", panel_size=4),
    )
    with pytest.raises(services.AssemblyRefused):
        services.recruitment_open(actor=organiser, assembly=assembly)


def test_create_page_then_quotas_page_then_csv_import(client, group, organiser):
    client.force_login(organiser)
    response = client.post(
        reverse("assemblies:new", args=[group.slug]),
        {
            "title": "Parks assembly",
            "question": "What should our parks be for?",
            "panel_size": 10,
            "kind": "citizens",
            "recruitment": "open_call",
            "algorithm": "leximin",
        },
    )
    assembly = Assembly.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("assemblies:quotas", args=[assembly.slug])
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "shares.csv", b"feature,value,share\ngender,female,50\ngender,male,50\n"
    )
    response = client.post(
        reverse("assemblies:quotas", args=[assembly.slug]),
        {"import": "1", "shares": upload},
    )
    assert response.status_code == 302
    assert list(
        Category.objects.values_list("value", "minimum", "maximum").order_by("value")
    ) == [("female", 5, 5), ("male", 5, 5)]
    bad = SimpleUploadedFile("shares.csv", b"feature,value,share\ngender,female,x\n")
    response = client.post(
        reverse("assemblies:quotas", args=[assembly.slug]),
        {"import": "1", "shares": bad},
    )
    assert response.status_code == 200
    assert "Line 2, column &#x27;share&#x27;" in response.content.decode()
    response = client.post(
        reverse("assemblies:quotas", args=[assembly.slug]),
        {"quotas": "gender,female,4,6,Gender,Female\ngender,male,4,6,Gender,Male"},
    )
    assert response.status_code == 302
    assert Category.objects.get(value="male").maximum == 6
    response = client.post(reverse("assemblies:open", args=[assembly.slug]))
    assert Assembly.objects.get().status == Status.RECRUITING


def test_draft_is_hidden_from_everyone_but_organisers(
    client, group, organiser, members
):
    assembly = make_assembly(group, organiser)
    url = reverse("assemblies:detail", args=[assembly.slug])
    assert client.get(url).status_code == 404
    client.force_login(members[0])
    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("assemblies:quotas", args=[assembly.slug])).status_code
        == 404
    )
    client.force_login(organiser)
    assert client.get(url).status_code == 200
    group_page = client.get(reverse("assemblies:group", args=[group.slug]))
    assert assembly.title in group_page.content.decode()
