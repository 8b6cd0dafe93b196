"""Every state change of the membership register, by workflow.

Modules: ``imports`` (the admin's steps: upload, mapping, apply, resume),
``running`` (the check and the apply as background tasks, batch by batch),
``postcode_areas`` (the postcode-to-branch table), ``exports`` (CSV and OSDI),
``erasure`` (what a deleted account leaves behind: nothing).
Members themselves are created through ``commonground.members.services.members_enrol``.
"""

from .erasure import register_entries_erase
from .exports import osdi_person, register_export
from .imports import (
    can_change_mapping,
    can_resume,
    import_apply_start,
    import_mapping_save,
    import_resume,
    import_upload,
    is_stalled,
    max_upload_bytes,
)
from .postcode_areas import (
    PostcodeTableCheck,
    postcode_table_check,
    postcode_table_replace,
    postcode_table_token,
)
from .running import (
    MAX_REPORTED_ERRORS,
    apply_import_task,
    check_import_task,
    import_apply,
    import_check,
)

__all__ = [
    "MAX_REPORTED_ERRORS",
    "PostcodeTableCheck",
    "apply_import_task",
    "can_change_mapping",
    "can_resume",
    "check_import_task",
    "import_apply",
    "import_apply_start",
    "import_check",
    "import_mapping_save",
    "import_resume",
    "import_upload",
    "is_stalled",
    "max_upload_bytes",
    "osdi_person",
    "postcode_table_check",
    "postcode_table_replace",
    "postcode_table_token",
    "register_entries_erase",
    "register_export",
]
