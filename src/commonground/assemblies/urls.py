"""URLs of the assemblies app (mounted at /assemblies/)."""

from django.urls import path

from . import views
from .views import deliberation as panel_views

app_name = "assemblies"

urlpatterns = [
    path("groups/<slug:slug>/", views.group_assemblies, name="group"),
    path("groups/<slug:slug>/new/", views.assembly_new, name="new"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("me/<str:token>/", views.my_page_token, name="my_page_token"),
    path("<slug:slug>/", views.assembly_detail, name="detail"),
    path("<slug:slug>/settings/", views.assembly_edit, name="edit"),
    path("<slug:slug>/quotas/", views.assembly_quotas, name="quotas"),
    path("<slug:slug>/open/", views.recruitment_open, name="open"),
    path("<slug:slug>/invite/", views.members_invite, name="invite"),
    path("<slug:slug>/register/", views.register, name="register"),
    path("<slug:slug>/me/", views.my_page, name="my_page"),
    path("<slug:slug>/pool/", views.pool, name="pool"),
    path(
        "<slug:slug>/pool/<int:pk>/remove/",
        views.registrant_remove,
        name="registrant_remove",
    ),
    path("<slug:slug>/draws/commit/", views.draw_commit, name="draw_commit"),
    path("<slug:slug>/draws/<int:number>/", views.draw_page, name="draw"),
    path("<slug:slug>/draws/<int:number>/start/", views.draw_start, name="draw_start"),
    path(
        "<slug:slug>/draws/<int:number>/requeue/",
        views.draw_requeue,
        name="draw_requeue",
    ),
    path(
        "<slug:slug>/draws/<int:number>/<str:name>-file/",
        views.draw_file,
        name="draw_file",
    ),
    path("<slug:slug>/seats/<int:pk>/drop-out/", views.seat_drop_out, name="drop_out"),
]

# The panel's deliberation (issue 16, item 4).
urlpatterns += [
    path("<slug:slug>/panel/", panel_views.panel, name="panel"),
    path(
        "<slug:slug>/panel/sessions/new/",
        panel_views.session_new,
        name="session_new",
    ),
    path(
        "<slug:slug>/panel/sessions/<int:session_id>/",
        panel_views.session,
        name="session",
    ),
    path(
        "<slug:slug>/panel/sessions/<int:session_id>/edit/",
        panel_views.session_edit,
        name="session_edit",
    ),
    path(
        "<slug:slug>/panel/sessions/<int:session_id>/cancel/",
        panel_views.session_cancel,
        name="session_cancel",
    ),
    path(
        "<slug:slug>/panel/recommendations/new/",
        panel_views.recommendation_new,
        name="recommendation_new",
    ),
    path(
        "<slug:slug>/panel/recommendations/<int:recommendation_id>/edit/",
        panel_views.recommendation_edit,
        name="recommendation_edit",
    ),
    path(
        "<slug:slug>/panel/recommendations/<int:recommendation_id>/vote/",
        panel_views.panel_ballot,
        name="panel_ballot",
    ),
    path(
        "<slug:slug>/panel/vote/", panel_views.panel_vote_open, name="panel_vote_open"
    ),
    path("<slug:slug>/panel/invite/", panel_views.panel_invite, name="panel_invite"),
    path(
        "<slug:slug>/panel/publish/",
        panel_views.recommendations_publish,
        name="recommendations_publish",
    ),
    path(
        "<slug:slug>/panel/join/<str:token>/",
        panel_views.panel_join,
        name="panel_join",
    ),
    path(
        "<slug:slug>/recommendations/",
        panel_views.recommendations,
        name="recommendations",
    ),
    path(
        "<slug:slug>/recommendations/<int:recommendation_id>/send/",
        panel_views.recommendation_send,
        name="recommendation_send",
    ),
]
