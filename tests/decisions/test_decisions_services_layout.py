"""The shape of decisions.services: imports run one way and every public name stays.

Tasks sit on top of services and notifications underneath; inside the package the
shared pieces never import the workflows, and counting knows nothing of proposals.
"""

from __future__ import annotations

import pytest

from commonground.decisions import services

grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (dev)")

APP = "commonground.decisions"
PACKAGE = f"{APP}.services"
SHARED = ("errors", "checks", "options", "locks", "clock")
WORKFLOWS = (
    "proposals",
    "amendments",
    "elections",
    "sealing",
    "nominations",
    "casting",
    "counting",
    "results",
)


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("commonground", cache_dir=None)


def test_services_and_notifications_never_reach_the_tasks(graph):
    for importer in (PACKAGE, f"{APP}.notifications"):
        assert not graph.chain_exists(importer, f"{APP}.tasks", as_packages=True)
    assert graph.direct_import_exists(
        importer=f"{APP}.tasks", imported=PACKAGE, as_packages=True
    )


def test_the_shared_pieces_never_import_a_workflow(graph):
    for shared in SHARED:
        for workflow in WORKFLOWS:
            assert not graph.chain_exists(
                f"{PACKAGE}.{shared}", f"{PACKAGE}.{workflow}"
            ), f"{shared} imports {workflow}"


def test_counting_does_not_reach_into_proposals(graph):
    # results sits above both: it counts, then settles the proposal.
    assert graph.chain_exists(f"{PACKAGE}.results", f"{PACKAGE}.proposals")
    assert graph.chain_exists(f"{PACKAGE}.results", f"{PACKAGE}.counting")
    for module in ("counting", "sealing", "casting", "elections", "nominations"):
        assert not graph.chain_exists(f"{PACKAGE}.{module}", f"{PACKAGE}.proposals"), (
            module
        )


def test_no_module_of_the_package_imports_itself_back(graph):
    modules = set(graph.find_descendants(PACKAGE))
    for module in modules:
        for imported in graph.find_modules_directly_imported_by(module) & modules:
            assert not graph.chain_exists(imported, module), f"{module} <-> {imported}"


def test_every_name_callers_use_is_still_exported():
    used = {
        "CastReceipt",
        "DecisionRefused",
        "ElectionSpec",
        "IntegrityMismatch",
        "amendment_decide",
        "amendment_propose",
        "ballot_cast",
        "election_count",
        "election_create",
        "election_edit",
        "election_open_now",
        "elections_due_for_count",
        "elections_seal_due",
        "elections_send_reminders",
        "nomination_reject",
        "nomination_second",
        "nomination_submit",
        "nomination_withdraw",
        "proposal_create",
        "proposal_publish",
        "proposal_send_to_ballot",
        "proposal_support",
        "proposal_update",
        "proposal_withdraw_support",
        "proposals_check_support",
    }
    assert used <= set(services.__all__)
    assert all(hasattr(services, name) for name in services.__all__)
