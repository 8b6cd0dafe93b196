"""The public entry point: pool and quotas in, probabilities, lottery and draw out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _fairness, _greedy, _lottery
from ._highs import PanelFinder
from ._instance import Instance, compile_instance
from ._model import (
    Person,
    Quota,
    SortitionError,
    SortitionInputError,
    SortitionTimeLimitError,
)
from ._progress import Budget, OutOfTime, ProgressCallback
from ._relaxation import explain_infeasibility

ALGORITHMS = ("leximin", "maximin", "legacy")
RESULT_FORMAT = "commonground-sortition/1"
LOTTERY_FORMAT = "commonground-sortition-lottery/1"


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys, no spaces and no trailing newline."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


@dataclass(frozen=True)
class Draw:
    """The panel a public random number selects from a lottery."""

    random_number: int
    index: int
    panel: tuple[str, ...]


@dataclass(frozen=True)
class Lottery:
    """``size`` panels, each drawn with probability ``1 / size``.

    Its file is :meth:`to_bytes` (canonical JSON), so the SHA-256 of the file is
    :attr:`sha256` and anyone can recompute it. A public random number ``R``
    (a non-negative integer) selects panel number ``R mod size``, counting
    from 0 in file order.
    """

    panel_size: int
    panels: tuple[tuple[str, ...], ...]
    algorithm: str = ""
    seed: int = 0
    #: when the selection stopped at its time limit: how far the smallest
    #: probability may be below the optimum (recorded in the file); else None
    gap: float | None = None

    @property
    def size(self) -> int:
        return len(self.panels)

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "format": LOTTERY_FORMAT,
            "algorithm": self.algorithm,
            "seed": self.seed,
            "panel_size": self.panel_size,
            "size": self.size,
            "panels": [list(panel) for panel in self.panels],
        }
        if self.gap is not None:
            value["gap"] = self.gap
        return value

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def draw(self, random_number: int) -> Draw:
        """Panel ``random_number mod size``; ``random_number`` must be >= 0."""
        if isinstance(random_number, bool) or not isinstance(random_number, int):
            raise SortitionInputError(
                "the random number must be an integer", field="draw"
            )
        if random_number < 0:
            raise SortitionInputError(
                "the random number must not be negative", field="draw"
            )
        index = random_number % self.size
        return Draw(random_number=random_number, index=index, panel=self.panels[index])

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "lottery") -> Lottery:
        """Read a lottery file, checking its structure."""
        try:
            value = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            line = getattr(error, "lineno", None)
            raise SortitionInputError(
                f"not valid JSON ({error})", source=source, line=line
            ) from None
        if not isinstance(value, dict) or value.get("format") != LOTTERY_FORMAT:
            raise SortitionInputError(
                f"not a lottery file (expected format {LOTTERY_FORMAT!r})",
                source=source,
                field="format",
            )
        panels = value.get("panels")
        panel_size = value.get("panel_size")
        if not isinstance(panel_size, int) or panel_size < 1:
            raise SortitionInputError(
                "must be a positive integer", source=source, field="panel_size"
            )
        if not isinstance(panels, list) or not panels:
            raise SortitionInputError(
                "must be a non-empty list", source=source, field="panels"
            )
        for number, panel in enumerate(panels):
            if (
                not isinstance(panel, list)
                or len(panel) != panel_size
                or not all(isinstance(pid, str) for pid in panel)
            ):
                raise SortitionInputError(
                    f"panel {number} must be a list of {panel_size} ids",
                    source=source,
                    field="panels",
                )
        if value.get("size") != len(panels):
            raise SortitionInputError(
                f"says {value.get('size')!r} but {len(panels)} panels are listed",
                source=source,
                field="size",
            )
        seed = value.get("seed", 0)
        algorithm = value.get("algorithm", "")
        gap = value.get("gap")
        return cls(
            panel_size=panel_size,
            panels=tuple(tuple(panel) for panel in panels),
            algorithm=algorithm if isinstance(algorithm, str) else "",
            seed=seed if isinstance(seed, int) else 0,
            gap=float(gap) if isinstance(gap, int | float) else None,
        )


@dataclass(frozen=True)
class Stats:
    minimum: float
    maximum: float
    gini: float


def gini(values: Sequence[float] | np.ndarray) -> float:
    """Gini coefficient: mean absolute difference over twice the mean."""
    ordered = np.sort(np.asarray(values, dtype=float))
    n = len(ordered)
    total = float(ordered.sum())
    if n == 0 or total <= 0:
        return 0.0
    ranks = 2 * np.arange(1, n + 1) - n - 1
    return max(float(ranks @ ordered) / (n * total), 0.0)


@dataclass(frozen=True)
class SelectionResult:
    """Everything a selection produced; ``to_json()`` is the published contract."""

    algorithm: str
    panel_size: int
    seed: int
    person_ids: tuple[str, ...]
    probabilities: dict[str, float]
    distribution: tuple[tuple[tuple[str, ...], float], ...]
    lottery: Lottery
    lottery_probabilities: dict[str, float]
    lottery_bounds: dict[str, float]
    stats: Stats
    drawn: Draw | None
    trace: dict[str, Any] = field(default_factory=dict)
    #: "optimal", or "time_limit" when the work stopped early (see ``gap``)
    status: str = "optimal"
    #: how far the smallest probability may be below the best possible, proven
    #: by the solver's bound (0 when optimal)
    gap: float = 0.0

    def to_json(self) -> dict[str, Any]:
        drawn = self.drawn
        return {
            "format": RESULT_FORMAT,
            "algorithm": self.algorithm,
            "panel_size": self.panel_size,
            "seed": self.seed,
            "status": self.status,
            "gap": self.gap,
            "people": {
                pid: {
                    "probability": self.probabilities[pid],
                    "lottery_probability": self.lottery_probabilities[pid],
                    "lottery_bound": self.lottery_bounds[pid],
                }
                for pid in self.person_ids
            },
            "distribution": [
                {"panel": list(panel), "probability": probability}
                for panel, probability in self.distribution
            ],
            "lottery": {
                "size": self.lottery.size,
                "sha256": self.lottery.sha256,
                "panels": [list(panel) for panel in self.lottery.panels],
                "max_deviation": max(
                    abs(self.lottery_probabilities[pid] - self.probabilities[pid])
                    for pid in self.person_ids
                ),
            },
            "stats": {
                "min": self.stats.minimum,
                "max": self.stats.maximum,
                "gini": self.stats.gini,
            },
            "drawn": None
            if drawn is None
            else {
                "random_number": drawn.random_number,
                "index": drawn.index,
                "panel": list(drawn.panel),
            },
            "trace": self.trace,
        }


def _check_feasible(instance: Instance, budget: Budget) -> None:
    finder = PanelFinder(instance)
    try:
        feasible = bool(
            finder.best(np.zeros(instance.type_count), time_limit=budget.remaining())
        )
    except OutOfTime:
        raise SortitionTimeLimitError(
            "stopped at the time limit while checking that some panel meets every "
            "quota; allow more time"
        ) from None
    if not feasible:
        raise explain_infeasibility(instance, time_limit=budget.remaining())


def select_panel(
    people: Sequence[Person],
    quotas: Sequence[Quota],
    panel_size: int,
    *,
    algorithm: str = "leximin",
    lottery_size: int = 1000,
    seed: int = 0,
    random_number: int | None = None,
    legacy_draws: int = 10_000,
    time_limit: float | None = None,
    progress: ProgressCallback | None = None,
) -> SelectionResult:
    """Selection probabilities, distribution, uniform lottery and (optionally) draw.

    ``time_limit`` (seconds, default none) bounds the work: LEXIMIN or MAXIMIN
    stopped at the limit returns the best distribution over the panels found so
    far, with ``status == "time_limit"`` and the proven ``gap`` on the smallest
    probability (also written in the lottery file), or raises
    :class:`SortitionTimeLimitError` when there is none yet. ``progress`` is
    called now and then with a :class:`Progress` (about once a second).

    >>> from commonground.engines.sortition import Person, Quota, select_panel
    >>> people = [Person(str(i), {"gender": g}) for i, g in enumerate("ffmmmm")]
    >>> quotas = [Quota("gender", "f", 1, 1), Quota("gender", "m", 1, 1)]
    >>> result = select_panel(people, quotas, 2, lottery_size=4)
    >>> round(result.probabilities["0"], 6), round(result.probabilities["2"], 6)
    (0.5, 0.25)
    >>> result.lottery.draw(6).index  # 6 mod 4
    2
    """
    if algorithm not in ALGORITHMS:
        raise SortitionInputError(
            f"unknown algorithm {algorithm!r} (choose from {', '.join(ALGORITHMS)})",
            field="algorithm",
        )
    if lottery_size < 1:
        raise SortitionInputError(
            "the lottery needs at least one panel", field="lottery_size"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SortitionInputError("the seed must be a whole number >= 0", field="seed")
    if random_number is not None and random_number < 0:
        raise SortitionInputError(
            "the random number must not be negative", field="draw"
        )
    if time_limit is not None and not time_limit > 0:
        raise SortitionInputError(
            "the time limit must be a positive number of seconds", field="time_limit"
        )
    budget = Budget(time_limit, progress)
    instance = compile_instance(people, quotas, panel_size)
    _check_feasible(instance, budget)
    rng = np.random.default_rng(seed)
    solver_rng, lottery_rng, order_rng = rng.spawn(3)
    trace: dict[str, Any] = {"types": instance.type_count}
    status, gap = "optimal", 0.0
    if algorithm == "legacy":
        distribution = _greedy.legacy(instance, solver_rng, legacy_draws)
        trace["legacy_draws"] = legacy_draws
    else:
        fairness_trace = _fairness.FairnessTrace()
        solve = _fairness.leximin if algorithm == "leximin" else _fairness.maximin
        distribution = solve(instance, solver_rng, fairness_trace, budget)
        trace.update(
            stages=[
                {"minimum": z, "fixed": count} for z, count in fairness_trace.stages
            ],
            linear_programs=fairness_trace.linear_programs,
            integer_programs=fairness_trace.pricing_problems,
            panels_generated=fairness_trace.panels_generated,
            cuts=fairness_trace.cuts,
            peeled=fairness_trace.peeled,
            backtracks=fairness_trace.backtracks,
            bound=fairness_trace.bound,
        )
        status, gap = fairness_trace.status, fairness_trace.gap
    budget.report("lottery", 0.0, "building the lottery")
    total = float(distribution.shares @ instance.counts)
    if abs(total - panel_size) > 1e-6 * panel_size:
        raise SortitionError(
            "internal error: the probabilities do not add up to the panel size"
        )
    orders = _lottery.member_orders(instance, order_rng)
    person_share = np.zeros(len(instance.person_ids))
    for t, group in enumerate(instance.members):
        person_share[list(group)] = distribution.shares[t]
    ids = np.array(instance.person_ids, dtype=object)
    people_panels, panel_probabilities = _lottery.expand_to_people(
        instance, distribution, orders
    )
    seats, type_bounds = _lottery.lottery_panels(
        instance, distribution, lottery_size, orders, lottery_rng
    )
    chosen_count = np.bincount(seats.ravel(), minlength=len(ids))
    person_bound = np.zeros(len(ids))
    for t, group in enumerate(instance.members):
        person_bound[list(group)] = type_bounds[t]
    lottery = Lottery(
        panel_size=panel_size,
        panels=tuple(tuple(ids[row].tolist()) for row in seats),
        algorithm=algorithm,
        seed=seed,
        gap=gap if status != "optimal" else None,
    )
    probabilities = dict(zip(instance.person_ids, person_share.tolist(), strict=True))
    result = SelectionResult(
        algorithm=algorithm,
        panel_size=panel_size,
        seed=seed,
        person_ids=instance.person_ids,
        probabilities=probabilities,
        distribution=tuple(
            (tuple(ids[row].tolist()), probability)
            for row, probability in zip(people_panels, panel_probabilities, strict=True)
        ),
        lottery=lottery,
        lottery_probabilities=dict(
            zip(
                instance.person_ids, (chosen_count / lottery_size).tolist(), strict=True
            )
        ),
        lottery_bounds=dict(
            zip(instance.person_ids, person_bound.tolist(), strict=True)
        ),
        stats=Stats(
            minimum=float(person_share.min()),
            maximum=float(person_share.max()),
            gini=gini(person_share),
        ),
        drawn=None if random_number is None else lottery.draw(random_number),
        trace=trace,
        status=status,
        gap=gap,
    )
    budget.report("done", 1.0, "done")
    return result
