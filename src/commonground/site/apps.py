"""The Django project as an app: the home page and the ``seed_demo`` command."""

from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "commonground.site"
    label = "commonground_site"
    verbose_name = "Common Ground site"
