"""Demo articles (``manage.py seed_demo``), made through the real services; idempotent.

The national party gains a writer and an editor and a dozen published articles in
two tags (Housing, Climate), one of them a long interview with members' comments
and replies, and a visitor's comment held for a moderator (a first comment). Dates
are spread over the last weeks afterwards, as a real news page would have them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from commonground.discussion import services as discussion
from commonground.discussion import visitors
from commonground.members.demo import DEMO_PASSWORD, email_for
from commonground.members.models import Group, Membership, Role, RoleAssignment, User
from commonground.members.selectors import subtree_active_members

from . import services
from .models import Article, Revision

INTERVIEW_TITLE = (
    "“We decide together, or we do not decide”: an interview with Amara Osei"
)
HOUSING, CLIMATE = "Housing", "Climate"

ARTICLES: list[tuple[str, str, str, list[str]]] = [
    (
        "Rent caps pass their first vote in Leeds",
        "A motion from our Leeds branch wins the council's first reading.",
        "## What happened\n\nOn Tuesday the council's housing committee voted 7 to 4 for "
        "a cap on rent rises in the city. Members of the Leeds branch had spent four "
        "months knocking on doors and collecting stories from renters.\n\n> We did not "
        "ask for favours. We brought 2,000 signatures and 40 people to the gallery.\n\n"
        "## What comes next\n\nThe full council votes in March. Branch meetings are "
        "open: come and help plan the last push.",
        [HOUSING],
    ),
    (
        "Insulating every home in ten years: how we would pay for it",
        "Our energy plan, costed line by line.",
        "Energy bills are the second largest cost for most households we spoke to.\n\n"
        "## The plan\n\n- insulate 600,000 homes a year;\n- pay for it from the "
        "savings on energy imports;\n- train 40,000 installers through colleges.\n\n"
        "The full costing is on our policy pages and open for amendments.",
        [CLIMATE, HOUSING],
    ),
    (
        "Tenants' unions are growing faster than ever",
        "Three new unions joined the coalition this year.",
        "The Renters' Union now counts members in every region. We asked organisers "
        "what changed: *people are tired of waiting*.",
        [HOUSING],
    ),
    (
        "Buses, not bypasses",
        "Why our Manchester branch opposes the new road.",
        "The new bypass would cost more than running free buses for eight years.\n\n"
        "## Our alternative\n\nA network of frequent buses, protected bike lanes and "
        "safe routes to school.",
        [CLIMATE],
    ),
    (
        "Energy co-operatives keep the money local",
        "A visit to the solar co-operative run by our Bristol members.",
        "Two hundred households share the roofs of four schools. The surplus pays for "
        "insulation in the poorest streets.",
        [CLIMATE],
    ),
    (
        "What our members decided at conference",
        "Every motion, every vote, and what happens now.",
        "Conference passed 14 motions. Housing and climate came top of the priorities "
        "ballot, counted by single transferable vote. The full count is published.",
        [HOUSING, CLIMATE],
    ),
    (
        "Empty homes, long waiting lists",
        "There are more empty homes in Newcastle than families waiting for one.",
        "We mapped every empty home we could find with the council's own data. The "
        "map is open: add the ones we missed.",
        [HOUSING],
    ),
    (
        "Heat pumps in terraced streets: it works",
        "Members in Cardiff show how a whole street switched.",
        "Thirty-two houses, one contractor, one loan shared by the street. Bills fell "
        "by a third in the first winter.",
        [CLIMATE],
    ),
    (
        "Why we publish every vote our councillors cast",
        "Accountability is not a slogan.",
        "Every vote, every reason, within a week. If a councillor breaks the mandate "
        "members gave them, members can recall them.",
        [HOUSING],
    ),
    (
        "Flooding: the estate that would not wait",
        "Residents in Brighton built their own flood plan.",
        "When the council's plan slipped again, residents surveyed every drain on "
        "their estate and took the results to the next meeting.",
        [CLIMATE],
    ),
    (
        "A fair rent is a climate policy too",
        "Cold, damp homes cost renters twice.",
        "Landlords have no reason to insulate when tenants pay the bills. Minimum "
        "energy standards for rented homes would change that.",
        [HOUSING, CLIMATE],
    ),
]

QUESTIONS = [
    (
        "You joined the party two years ago. What brought you in?",
        "A meeting about our estate's heating. Forty people in a community hall, and "
        "for once nobody on a stage. We split into small groups, we wrote down what we "
        "wanted, and we voted on it before we went home. I had never been asked what I "
        "thought by a party before, let alone had my answer counted.",
    ),
    (
        "Many parties say they listen to members. What is different here?",
        "The difference is that we can check. Every ballot is counted in the open and "
        "anyone can recount it. When the national list was chosen, I could see how my "
        "second preference moved when my first choice was elected. That sounds "
        "technical, but it is what trust is made of: you do not have to take anyone's "
        "word for it.",
    ),
    (
        "What was the hardest decision your branch made?",
        "Whether to back the rent cap motion or the council's own, weaker plan. The "
        "discussion went on for three weeks online and two meetings. People changed "
        "their minds, including me. In the end we voted, and the minority accepted it "
        "because they had been heard and the count was fair.",
    ),
    (
        "How do you keep discussions civil when people disagree strongly?",
        "We wrote our own rules for the discussion forum, and we publish what the "
        "moderators remove and why, never the words themselves. When you can see that "
        "a moderator removed three comments for personal attacks this month, you stop "
        "imagining a conspiracy. You can disagree with a decision, but you can see it.",
    ),
    (
        "Does that not make moderators targets?",
        "The log shows the role, not the person. And moderators answer to the branch "
        "like everyone else. If members think the rules are wrong, they can propose new "
        "ones, and we vote.",
    ),
    (
        "What about people who cannot come to meetings?",
        "Most of our members cannot come to most meetings. They work shifts, they care "
        "for someone, they live far away. Everything we decide can be discussed and "
        "voted on from a phone, in their own time, before a deadline everyone knows "
        "in advance.",
    ),
    (
        "Climate and housing are your two priorities. Why those two?",
        "Because members put them first, in a ballot at conference. And because they "
        "are the same fight on our estate: the cold flats are the expensive flats. If "
        "you insulate a home you cut the bill and the emissions at once.",
    ),
    (
        "What would you say to someone who thinks politics is not for them?",
        "That it was not for me either, until I found a place where my vote counted as "
        "much as anyone's. Come to one meeting, or read one proposal and comment on it. "
        "You do not need to know the jargon. Nobody here is allowed to use it anyway.",
    ),
    (
        "How does the branch decide what to campaign on?",
        "Anyone can write a proposal. It needs a few members to support it before it "
        "goes to a vote, so that we do not spend our evenings on ideas nobody shares. "
        "Then there is a discussion period, amendments, and a ballot everyone can "
        "join from home. The rent cap campaign started as a proposal from a member "
        "who had been a member for three weeks.",
    ),
    (
        "Some people say online voting is less safe than a show of hands.",
        "A show of hands is not secret, and it only counts who was in the room. Our "
        "ballots are secret, and the count can be checked: the list of anonymous "
        "ballots is published after the close, and anyone can run the count again and "
        "get the same result. I trust that more than a hall full of raised hands and "
        "a tired chair counting them.",
    ),
    (
        "What happens when a councillor votes against what members decided?",
        "They have to explain themselves in public, within a week, and members can "
        "start a recall. It has happened once. The councillor explained, the branch "
        "discussed it, and members decided not to recall. That is accountability "
        "working: not punishment, but a decision that belongs to the members.",
    ),
    (
        "You were a tenant organiser before you joined. What did that teach you?",
        "That people come to a meeting once because they are angry, and come back "
        "because something changed. If the first thing we ask of someone is patience, "
        "we lose them. So we make sure every meeting ends with a decision and every "
        "decision has a name next to it.",
    ),
    (
        "Is there anything the party gets wrong?",
        "We still talk too much among ourselves. The people on my estate who most need "
        "a warm home are the least likely to read a policy paper. That is why we write "
        "articles like this one, and why the comments are open to everyone, members "
        "or not.",
    ),
    (
        "Last question: what do you want to have changed in five years?",
        "Every home on our estate warm in winter, rents people can afford, and a party "
        "where members still decide. The first two depend on the third.",
    ),
]

INTERVIEW_STANDFIRST = (
    "The chair of our Leeds branch on counting every vote in the open, moderating in "
    "public, and why housing and climate are the same fight."
)


def _interview_body() -> str:
    intro = (
        "Amara Osei chairs the Leeds branch. She has organised tenants on her estate "
        "for six years. We talked in the branch's office, between two meetings.\n\n"
    )
    blocks = [f"Q: {question}\n\nA: {answer}" for question, answer in QUESTIONS]
    return intro + "\n\n".join(blocks)


def _person(local: str, name: str, group: Group, role: str) -> User:
    email = email_for(local)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create(
            email=email, display_name=name, password=make_password(DEMO_PASSWORD)
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    Membership.objects.get_or_create(
        user=user,
        group=group,
        defaults={"status": Membership.Status.ACTIVE, "since": timezone.now()},
    )
    RoleAssignment.objects.get_or_create(
        user=user, group=group, role=role, defaults={"assigned_at": timezone.now()}
    )
    return user


def seed(context: dict[str, Any]) -> None:
    national = Group.objects.filter(slug="npp-national").first()
    if national is None:
        return
    context.setdefault("logins", []).extend(
        [
            (email_for("writer"), "writer of the national party's articles"),
            (email_for("editor"), "editor of the national party's articles"),
        ]
    )
    if Article.objects.filter(title=INTERVIEW_TITLE).exists():
        return
    writer = _person("writer", "Wren Writer", national, Role.WRITER)
    editor = _person("editor", "Eddie Editor", national, Role.EDITOR)
    services.author_profile_update(
        actor=writer,
        bio="Wren writes about housing and the climate for the party. Tenant, cyclist, "
        "union member.",
    )
    services.author_profile_update(
        actor=editor, bio="Eddie edits the party's news pages. Former local reporter."
    )
    # Demo members have made-up addresses: send them no email.
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"
    ):
        _articles(national, writer, editor)
        interview = _interview(national, writer, editor)
        _discussion(national, interview)


def _publish(article: Article, editor: User) -> None:
    services.article_publish(actor=editor, article=article)


def _backdate(article: Article, days: float) -> None:
    when = timezone.now() - timedelta(days=days)
    Revision.objects.filter(article=article).update(published_at=when)
    Article.objects.filter(pk=article.pk).update(
        first_published_at=when, changed_at=when
    )


def _articles(national: Group, writer: User, editor: User) -> None:
    for index, (title, standfirst, body, tags) in enumerate(ARTICLES):
        author = writer if index % 3 else editor
        article = services.article_create(
            actor=author,
            group=national,
            title=title,
            standfirst=standfirst,
            body=body,
            tags=tags,
            call_to_action="join",
        )
        _publish(article, editor)
        _backdate(article, days=3 + index * 2.5)


def _interview(national: Group, writer: User, editor: User) -> Article:
    article = services.article_create(
        actor=writer,
        group=national,
        title=INTERVIEW_TITLE,
        standfirst=INTERVIEW_STANDFIRST,
        body=_interview_body(),
        kind=Article.Kind.INTERVIEW,
        interviewee="Amara Osei",
        tags=[HOUSING, CLIMATE],
        call_to_action="join",
    )
    services.article_submit(actor=writer, article=article)
    _publish(article, editor)
    _backdate(article, days=1)
    return Article.objects.get(pk=article.pk)


COMMENTS = [
    "This is exactly why I joined. Counting in the open matters more than any slogan.",
    "The bit about moderation is spot on: I read the log after a row last month and "
    "it calmed everyone down.",
    "Could the Leeds branch share how you ran the three-week discussion? Our branch "
    "wants to try it.",
]
REPLIES = [
    "Agreed. The recount link is the first thing I show new members.",
    "We used the proposal page with amendments, then two meetings. Happy to help, "
    "message the branch organisers.",
]


def _discussion(national: Group, interview: Article) -> None:
    members = list(subtree_active_members(national).order_by("id")[:12])
    if len(members) < 6:
        return
    comments = []
    for member, body in zip(members[:3], COMMENTS, strict=False):
        comments.append(
            discussion.comment_post(author=member, target=interview, body=body)
        )
    discussion.comment_post(
        author=members[3], target=interview, body=REPLIES[0], parent=comments[0]
    )
    discussion.comment_post(
        author=members[4], target=interview, body=REPLIES[1], parent=comments[2]
    )
    discussion.comment_post(
        author=members[5],
        target=interview,
        body="Thank you, we will.",
        parent=comments[2],
    )
    held = discussion.visitor_comment_post(
        target=interview,
        name="Sam (not a member yet)",
        email="sam.visitor@example.org",
        body="I'm not a member, but this made me want to come to a meeting. Are "
        "they really open to anyone?",
        address="demo",
        notify_replies=True,
    )
    discussion.visitor_comment_confirm(token=visitors.confirm_token(held))
    cache.delete("discussion:visitor-address:demo")
