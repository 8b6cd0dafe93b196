"""The core app: the platform's ground floor, which imports no other platform app."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "commonground.core"
    verbose_name = _("Common Ground core")
