"""``manage.py audit_verify``: recompute the audit chain and name the first broken entry."""

from django.core.management.base import BaseCommand, CommandError

from commonground.audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and name the first broken entry."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        report = audit_verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit chain broken at entry #{report.first_broken_id}: "
                f"{report.problem} ({report.checked} entries verified before it)"
            )
        self.stdout.write(f"audit chain intact: {report.checked} entries verified")
