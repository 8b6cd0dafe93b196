"""Fair, auditable selection of citizens' assemblies (sortition).

Given a pool of volunteers and quotas on their features, compute the selection
probabilities that are as equal as the quotas allow (LEXIMIN, Flanigan et al.,
Nature 2021), a uniform lottery over panels that anyone can re-run with a public
random number (Flanigan, Kehne and Procaccia, NeurIPS 2021), and the draw.

>>> from commonground.engines.sortition import Person, Quota, select_panel
>>> people = [Person(str(i), {"gender": g}) for i, g in enumerate("ffmmmm")]
>>> quotas = [Quota("gender", "f", 1, 1), Quota("gender", "m", 1, 1)]
>>> result = select_panel(people, quotas, 2, lottery_size=4, random_number=7)
>>> sorted(round(p, 3) for p in result.probabilities.values())
[0.25, 0.25, 0.25, 0.25, 0.5, 0.5]
>>> result.drawn.index  # 7 mod 4
3
"""

from ._files import read_people, read_quotas
from ._instance import check_people_panel
from ._model import (
    InfeasibleQuotasError,
    Person,
    Quota,
    QuotaChange,
    SortitionError,
    SortitionInputError,
    SortitionTimeLimitError,
)
from ._progress import Progress
from ._selection import (
    ALGORITHMS,
    LOTTERY_FORMAT,
    RESULT_FORMAT,
    Draw,
    Lottery,
    SelectionResult,
    Stats,
    canonical_json,
    gini,
    select_panel,
)

__all__ = [
    "ALGORITHMS",
    "LOTTERY_FORMAT",
    "RESULT_FORMAT",
    "Draw",
    "InfeasibleQuotasError",
    "Lottery",
    "Person",
    "Progress",
    "Quota",
    "QuotaChange",
    "SelectionResult",
    "SortitionError",
    "SortitionInputError",
    "SortitionTimeLimitError",
    "Stats",
    "canonical_json",
    "check_people_panel",
    "gini",
    "read_people",
    "read_quotas",
    "select_panel",
]
