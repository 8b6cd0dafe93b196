"""Pages of the assemblies app."""

from .draws import (
    draw_commit,
    draw_file,
    draw_page,
    draw_requeue,
    draw_start,
    seat_drop_out,
)
from .recruitment import (
    confirm,
    my_page,
    my_page_token,
    pool,
    register,
    registrant_remove,
)
from .setup import (
    assembly_detail,
    assembly_edit,
    assembly_new,
    assembly_quotas,
    group_assemblies,
    members_invite,
    recruitment_open,
)

__all__ = [
    "assembly_detail",
    "assembly_edit",
    "assembly_new",
    "assembly_quotas",
    "confirm",
    "draw_commit",
    "draw_file",
    "draw_page",
    "draw_requeue",
    "draw_start",
    "group_assemblies",
    "members_invite",
    "my_page",
    "my_page_token",
    "pool",
    "recruitment_open",
    "register",
    "registrant_remove",
    "seat_drop_out",
]
