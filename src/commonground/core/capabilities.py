"""The capability registry: the one place where each app declares what it adds to the platform.

Every platform app calls :func:`register` once, from its ``AppConfig.ready()``, with a
:class:`Capability`: its dashboard panels, its section in a group's navigation, its part
of a member's data export, its audit vocabulary, the discussion rules for the things it
owns, its demo content, its sections of the visitors' home page and the calls to action
it offers at the end of an article. The dashboard, the group page, the export, the
group log, the discussion app, the home page, the article page and ``seed_demo`` read
this registry; none of them names an app.

    register(Capability(
        app="commonground.decisions",
        dashboard_panels=(DashboardPanel(key="decisions", title=_("Votes and proposals"),
                          template="decisions/panels/dashboard.html",
                          context=selectors.dashboard_decisions, order=30),),
        group_sections=(GroupSection(key="decisions", label=_("Proposals and ballots"),
                        url_name="decisions:group_decisions",
                        visible=rules.can_see_group_decisions, order=30),),
        personal_data={"decisions": selectors.personal_data_decisions},
        audit_actions={"election.opened": _("opened a ballot"), ...},
        discussion_rules={Proposal: ProposalDiscussion()},
        demo_seed=demo.seed,
        home_sections=(HomeSection(key="ballots", title=_("Votes now open"),
                       template="decisions/home/ballots.html",
                       context=selectors.home_ballots, order=30),),
        calls_to_action=(CallToAction(key="vote", label=_("Vote in an open ballot"),
                         template="decisions/cta/vote.html",
                         context=selectors.cta_vote),),
    ))

Context functions, visibility predicates and exporters must run a fixed number of
queries: the pages that call them pin their query counts. A test checks that every
installed platform app registers exactly one capability.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db.models import Model
from django.urls import reverse
from django.utils.functional import Promise

# A text members read: a plain string or a lazy translation (gettext_lazy).
Label = str | Promise


@dataclass(frozen=True)
class DashboardPanel:
    """A panel on the member dashboard; ``context(request)`` returns its template context."""

    key: str
    title: Label
    template: str
    context: Callable[[Any], dict[str, Any]]
    order: int = 100


@dataclass(frozen=True)
class NeedsYou:
    """Something in a group waiting for this member: a ballot closing tomorrow, a
    proposal one supporter short, applications to decide."""

    text: Label
    url: str
    due: datetime | None = None


@dataclass(frozen=True)
class Activity:
    """One line of a group's recent activity (a ballot opened, a proposal published)."""

    when: datetime
    text: Label
    url: str = ""


@dataclass(frozen=True)
class GroupOverview:
    """An app's part of a group's overview page."""

    needs_you: list[NeedsYou] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)


@dataclass(frozen=True)
class GroupSection:
    """An app's section of a group's navigation, shown when ``visible(viewer)`` is true.

    ``viewer`` is what the signed-in (or anonymous) user is to the group (see
    ``commonground.members.selectors.Viewer``); the URL is reversed with the group's
    slug as its only argument. ``count(group, viewer)`` gives the number of open
    items shown beside the label and ``overview(group, viewer)`` the section's part
    of the group's overview; neither is called for a viewer who may not see the
    section, and each runs a fixed number of queries.
    """

    key: str
    label: Label
    url_name: str
    visible: Callable[[Any], bool]
    order: int = 100
    count: Callable[[Any, Any], int] | None = None
    overview: Callable[[Any, Any], GroupOverview] | None = None


@dataclass(frozen=True)
class NotificationKind:
    """Something an app tells members about (see ``commonground.notifications``).

    ``name`` is dotted and app-prefixed (``decisions.ballot_opened``). The channel a
    member gets by default is ``default_channel`` (``email``, ``daily``, ``weekly``,
    ``in_app`` or ``none``); a ``statutory`` notice (one the movement's rules require)
    can move to a digest but never to ``none``. ``subject``, ``text`` and ``html`` are
    template names rendered with the caller's context (``html`` optional).
    ``in_app=False`` keeps it out of the notification centre (a ballot receipt).
    ``still_in_group(group_id, member_ids)`` returns the ids still active in the
    group; members who left get nothing more from it. ``recipients(target)``
    optionally resolves who receives it when the caller passes no one.
    """

    name: str
    label: Label
    default_channel: str = "email"
    statutory: bool = False
    subject_template: str = ""
    text_template: str = ""
    html_template: str = ""
    in_app: bool = True
    still_in_group: Callable[[int, list[int]], set[int]] | None = None
    recipients: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class HomeSection:
    """A section of the home page visitors see (no account needed): the latest
    articles, the next events, how to join.

    ``context(request)`` returns what the template reads as ``section``, or None
    when the section has nothing to show (it is then left out, heading and all).
    It runs a fixed number of queries and must show only what anyone may see.
    """

    key: str
    title: Label
    template: str
    context: Callable[[Any], dict[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class CallToAction:
    """A block an editor may put at the end of an article: join, come to an event,
    chip in. The article names one by ``key``; editors choose it by ``label``.

    ``context(request, article)`` returns what the template reads as ``cta``, or
    None when the block does not apply to that article now (no event coming up):
    nothing is shown. It runs a fixed number of queries and shows nothing personal
    to an anonymous reader (their page may be cached for others). The article page
    includes ``template``; no app edits the article template to add a block.
    """

    key: str
    label: Label
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class Capability:
    """Everything one app adds to the platform. ``app`` is its ``AppConfig.name``."""

    app: str
    dashboard_panels: tuple[DashboardPanel, ...] = ()
    group_sections: tuple[GroupSection, ...] = ()
    # Export section name -> exporter(user) returning JSON-ready data about that user
    # only, never another member's personal data and never ballot contents.
    personal_data: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    # erase_personal_data(user) removes what the app holds about a member who deletes
    # their account (called inside that transaction, before the name and address are
    # cleared from the user row, so it can still find text that quotes them).
    erase_personal_data: Callable[[Any], None] | None = None
    # Past-tense action name ("election.opened") -> what the group log says.
    audit_actions: Mapping[str, Label] = field(default_factory=dict)
    # Older action names still found in existing (hash-chained, unchangeable) entries
    # -> the current name they mean.
    audit_aliases: Mapping[str, str] = field(default_factory=dict)
    # Model class -> its discussion rule (see commonground.discussion.rules).
    discussion_rules: Mapping[type[Model], Any] = field(default_factory=dict)
    # demo_seed(context) adds the app's demo content; it runs in INSTALLED_APPS order
    # and may read and add to the shared context (earlier apps' demo objects).
    demo_seed: Callable[[dict[str, Any]], None] | None = None
    # What the app tells members about (commonground.notifications delivers it).
    notification_kinds: tuple[NotificationKind, ...] = ()
    # email_brand(group_id) -> how emails about that group look: a mapping with
    # "name", "accent", "accent_ink" and "logo_url" (absolute or site-relative), or
    # None. The members app answers it (organisations own their look).
    email_brand: Callable[[int], Mapping[str, str] | None] | None = None
    # archive_blockers(group) -> reasons the group cannot be archived now (an open
    # ballot in it, say); empty when nothing of this app stands in the way.
    archive_blockers: Callable[[Any], list[Label]] | None = None
    # Sections of the visitors' home page (latest articles, upcoming events).
    home_sections: tuple[HomeSection, ...] = ()
    # Blocks an editor may put at the end of an article (see CallToAction).
    calls_to_action: tuple[CallToAction, ...] = ()


_registry: dict[str, Capability] = {}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def register(capability: Capability) -> None:
    """Record ``capability``, one per app: registering again replaces the earlier entry.

    (Django runs ``ready()`` again when a test changes INSTALLED_APPS.)
    """
    _registry[capability.app] = capability


def unregister(app: str) -> None:
    """Forget an app's capability (tests that register a capability of their own)."""
    _registry.pop(app, None)


def registered() -> list[Capability]:
    """Every registered capability, in INSTALLED_APPS order."""
    order = {config.name: index for index, config in enumerate(apps.get_app_configs())}
    return sorted(
        _registry.values(), key=lambda cap: (order.get(cap.app, len(order)), cap.app)
    )


def capability_for(app: str) -> Capability | None:
    return _registry.get(app)


# What the platform's pages read ----------------------------------------------------


def dashboard_panels() -> list[DashboardPanel]:
    panels = [panel for cap in registered() for panel in cap.dashboard_panels]
    return sorted(panels, key=lambda panel: (panel.order, panel.key))


def group_sections() -> list[GroupSection]:
    sections = [section for cap in registered() for section in cap.group_sections]
    return sorted(sections, key=lambda section: (section.order, section.key))


def visible_sections(viewer: Any) -> list[GroupSection]:
    return [section for section in group_sections() if section.visible(viewer)]


# Section counts are kept this long in the shared cache, per group and viewer: the
# group navigation then costs one cache round trip whatever the number of apps, and a
# count is at most this stale (the section's own page is always current).
SECTION_COUNT_SECONDS = 20


def _section_counts(
    group: Any, viewer: Any, sections: list[GroupSection]
) -> dict[str, int]:
    user_id = getattr(getattr(viewer, "user", None), "pk", None) or 0
    keys = {
        section.key: f"group-count:{group.pk}:{user_id}:{section.key}"
        for section in sections
    }
    cached = cache.get_many(list(keys.values()))
    counts: dict[str, int] = {}
    fresh: dict[str, int] = {}
    for section in sections:
        key = keys[section.key]
        if key in cached:
            counts[section.key] = cached[key]
        else:
            assert section.count is not None
            counts[section.key] = fresh[key] = section.count(group, viewer)
    if fresh:
        cache.set_many(fresh, SECTION_COUNT_SECONDS)
    return counts


def group_links_for(
    group: Any, viewer: Any, *, with_counts: bool = False
) -> list[dict[str, Any]]:
    """The group navigation this viewer may see: label, URL (and count) per section."""
    sections = visible_sections(viewer)
    counts = (
        _section_counts(group, viewer, [s for s in sections if s.count is not None])
        if with_counts
        else {}
    )
    links: list[dict[str, Any]] = []
    for section in sections:
        link: dict[str, Any] = {
            "key": section.key,
            "label": str(section.label),
            "url": reverse(section.url_name, args=[group.slug]),
        }
        if section.key in counts:
            link["count"] = counts[section.key]
        links.append(link)
    return links


def group_overview(
    group: Any, viewer: Any, *, activity_limit: int = 10
) -> GroupOverview:
    """What needs this viewer in the group (soonest first) and its recent activity."""
    needs: list[NeedsYou] = []
    activity: list[Activity] = []
    for section in visible_sections(viewer):
        if section.overview is not None:
            part = section.overview(group, viewer)
            needs += part.needs_you
            activity += part.activity
    needs.sort(key=lambda item: (item.due is None, item.due or _EPOCH))
    activity.sort(key=lambda item: item.when, reverse=True)
    return GroupOverview(needs_you=needs, activity=activity[:activity_limit])


def personal_data_exporters() -> Iterator[tuple[str, Callable[[Any], Any]]]:
    for cap in registered():
        yield from cap.personal_data.items()


def exported_sections(user: Any) -> dict[str, Any]:
    """Every app's export section for ``user``, by section name."""
    return {key: exporter(user) for key, exporter in sorted(personal_data_exporters())}


def erase_personal_data(user: Any) -> None:
    """Every app's eraser for ``user`` (account deletion)."""
    for cap in registered():
        if cap.erase_personal_data is not None:
            cap.erase_personal_data(user)


def email_brand(group_id: int | None) -> Mapping[str, str] | None:
    """How an email about this group looks (its organisation's name, colours and
    logo), or None for the platform's own look."""
    if group_id is None:
        return None
    for cap in registered():
        if cap.email_brand is not None:
            brand = cap.email_brand(group_id)
            if brand is not None:
                return brand
    return None


def archive_blockers(group: Any) -> list[Label]:
    """Why ``group`` cannot be archived now, from every app (empty: it can be)."""
    return [
        reason
        for cap in registered()
        if cap.archive_blockers is not None
        for reason in cap.archive_blockers(group)
    ]


def home_sections() -> list[HomeSection]:
    """Every app's section of the visitors' home page, in order."""
    sections = [section for cap in registered() for section in cap.home_sections]
    return sorted(sections, key=lambda section: (section.order, section.key))


def home_page_sections(request: Any) -> list[tuple[HomeSection, dict[str, Any]]]:
    """The home sections that have something to show, each with its context."""
    shown = []
    for section in home_sections():
        context = section.context(request)
        if context is not None:
            shown.append((section, context))
    return shown


def calls_to_action() -> dict[str, CallToAction]:
    """Every registered call to action by key, in order."""
    found = [cta for cap in registered() for cta in cap.calls_to_action]
    return {cta.key: cta for cta in sorted(found, key=lambda cta: (cta.order, cta.key))}


def call_to_action_for(
    key: str, request: Any, article: Any
) -> tuple[CallToAction, dict[str, Any]] | None:
    """The block named ``key`` and its context for this article, or None (no such
    block any more, or nothing to show now)."""
    cta = calls_to_action().get(key) if key else None
    if cta is None:
        return None
    context = cta.context(request, article)
    return None if context is None else (cta, context)


def audit_action_labels() -> dict[str, Label]:
    """Action name -> label, for every app's actions and their older aliases."""
    labels: dict[str, Label] = {}
    for cap in registered():
        labels.update(cap.audit_actions)
    for cap in registered():
        for old, current in cap.audit_aliases.items():
            if current in labels:
                labels[old] = labels[current]
    return labels


def current_action_name(action: str) -> str:
    """The current name for ``action`` (older entries may carry a retired name)."""
    for cap in registered():
        if action in cap.audit_aliases:
            return cap.audit_aliases[action]
    return action


def discussion_rule_for(model_label: str) -> Any | None:
    """The discussion rule an app registered for a model (``app_label.modelname``)."""
    for cap in registered():
        for model, rule in cap.discussion_rules.items():
            if model._meta.label_lower == model_label:
                return rule
    return None


def demo_seeds() -> list[Callable[[dict[str, Any]], None]]:
    return [cap.demo_seed for cap in registered() if cap.demo_seed is not None]


def notification_kinds() -> dict[str, NotificationKind]:
    """Every registered notification kind, by name."""
    return {kind.name: kind for cap in registered() for kind in cap.notification_kinds}
