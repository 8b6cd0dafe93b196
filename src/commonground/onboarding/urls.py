"""URLs of the membership register, under /onboarding/<top-level group's slug>/."""

from django.urls import path

from . import views

app_name = "onboarding"

urlpatterns = [
    path("<slug:slug>/", views.register, name="register"),
    path("<slug:slug>/imports/", views.import_upload, name="import_upload"),
    path("<slug:slug>/imports/<int:job_id>/", views.import_job, name="import_job"),
    path(
        "<slug:slug>/imports/<int:job_id>/mapping/",
        views.import_mapping,
        name="import_mapping",
    ),
    path(
        "<slug:slug>/imports/<int:job_id>/apply/",
        views.import_apply,
        name="import_apply",
    ),
    path(
        "<slug:slug>/imports/<int:job_id>/resume/",
        views.import_resume,
        name="import_resume",
    ),
    path("<slug:slug>/postcodes/", views.postcode_areas, name="postcode_areas"),
    path(
        "<slug:slug>/postcodes/replace/",
        views.postcode_areas_replace,
        name="postcode_areas_replace",
    ),
    path("<slug:slug>/export/<str:kind>/", views.register_export, name="export"),
]
