"""URLs of proposals, amendments, ballots, elections, nominations and results."""

from django.urls import path

from . import views

app_name = "decisions"
urlpatterns = [
    path("groups/<slug:slug>/", views.group_decisions, name="group_decisions"),
    path("groups/<slug:slug>/proposals/new/", views.proposal_new, name="proposal_new"),
    path("groups/<slug:slug>/ballots/new/", views.election_new, name="election_new"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/edit/", views.proposal_edit, name="proposal_edit"),
    path(
        "proposals/<int:pk>/publish/", views.proposal_publish, name="proposal_publish"
    ),
    path(
        "proposals/<int:pk>/support/", views.proposal_support, name="proposal_support"
    ),
    path("proposals/<int:pk>/send/", views.proposal_send, name="proposal_send"),
    path("proposals/<int:pk>/amendments/", views.amendment_new, name="amendment_new"),
    path(
        "amendments/<int:pk>/decide/", views.amendment_decide, name="amendment_decide"
    ),
    path("ballots/<int:pk>/", views.election_detail, name="election_detail"),
    path("ballots/<int:pk>/vote/", views.election_vote, name="election_vote"),
    path("ballots/<int:pk>/open/", views.election_open, name="election_open"),
    path("ballots/<int:pk>/edit/", views.election_edit, name="election_edit"),
    path("ballots/<int:pk>/nominate/", views.nomination_new, name="nomination_new"),
    path("ballots/<int:pk>/results/", views.election_results, name="election_results"),
    path(
        "ballots/<int:pk>/files/<str:name>",
        views.election_download,
        name="election_download",
    ),
    path(
        "nominations/<int:pk>/second/",
        views.nomination_second,
        name="nomination_second",
    ),
    path(
        "nominations/<int:pk>/withdraw/",
        views.nomination_withdraw,
        name="nomination_withdraw",
    ),
    path(
        "nominations/<int:pk>/reject/",
        views.nomination_reject,
        name="nomination_reject",
    ),
]
