"""URLs of the assemblies app (mounted at /assemblies/)."""

from django.urls import path

from . import views

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
