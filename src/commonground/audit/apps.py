"""The audit app: the append-only, hash-chained log of privileged actions."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "commonground.audit"
    verbose_name = _("Audit log")
