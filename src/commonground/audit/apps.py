from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "commonground.audit"
    verbose_name = "Audit log"
