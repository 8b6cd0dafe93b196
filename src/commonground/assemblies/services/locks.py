"""The rows assemblies writes lock, and their order.

Every write that changes an assembly's phase, its pool or its draws locks the
assembly row first (``assembly_for_update``), then a draw (``draw_for_update``):
always in that order, so two writers never wait on each other in a cycle. A
double-click on "commit the draw" or two organisers at once therefore run one
after the other, and the second finds the phase already moved on (the unique
constraint on one initial draw per assembly backs this up).
"""

from __future__ import annotations

from ..models import Assembly, Draw


def assembly_for_update(assembly_id: int) -> Assembly:
    return (
        Assembly.objects.select_for_update().select_related("group").get(pk=assembly_id)
    )


def draw_for_update(draw_id: int) -> Draw:
    return Draw.objects.select_for_update().get(pk=draw_id)
