from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "commonground.core"
    verbose_name = "Common Ground core"
