"""Models of the assemblies app: the assembly, its quotas, pool, draws and panel
(``assembly``), and its deliberation (``deliberation``)."""

from commonground.assemblies.models.assembly import (
    Algorithm,
    Assembly,
    Category,
    Draw,
    DrawKind,
    DrawStatus,
    Feature,
    Kind,
    PanelSeat,
    Recruitment,
    Registrant,
    SeatStatus,
    Status,
)
from commonground.assemblies.models.deliberation import *  # noqa: F403

__all__ = [
    "Algorithm",
    "Assembly",
    "Category",
    "Draw",
    "DrawKind",
    "DrawStatus",
    "Feature",
    "Kind",
    "PanelSeat",
    "Recruitment",
    "Registrant",
    "SeatStatus",
    "Status",
]
