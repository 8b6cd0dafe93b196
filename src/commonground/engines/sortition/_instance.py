"""The pool compiled into interchangeable *types* and quota rows.

Two people are interchangeable when they have the same value for every quota
feature and neither shares a household with anyone else in the pool: swapping
them in any panel keeps every quota and household rule satisfied. The solvers
therefore work with a count per type instead of one variable per person; people
in a multi-person household keep a type of their own, because the household
rule tells them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._model import Person, Quota, SortitionInputError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Instance:
    """Everything the solvers need, indexed by type and by quota row."""

    person_ids: tuple[str, ...]
    quotas: tuple[Quota, ...]
    features: tuple[str, ...]
    panel_size: int
    #: ``members[t]`` lists the person indices (input order) of type ``t``.
    members: tuple[tuple[int, ...], ...]
    #: number of people of each type, shape (T,)
    counts: IntArray
    #: ``membership[q, t] = 1`` when type ``t`` has quota row ``q``'s value, (Q, T)
    membership: IntArray
    #: households with two or more members, as tuples of type indices
    households: tuple[tuple[int, ...], ...]
    #: quota row index of each person for each feature, shape (n, F)
    person_rows: IntArray

    @property
    def type_count(self) -> int:
        return len(self.members)

    @property
    def minimums(self) -> IntArray:
        return np.array([q.minimum for q in self.quotas], dtype=np.int64)

    @property
    def maximums(self) -> IntArray:
        return np.array([q.maximum for q in self.quotas], dtype=np.int64)

    def panel_is_valid(self, type_counts: IntArray) -> bool:
        """Check a panel (people per type) against every rule, without a solver."""
        x = np.asarray(type_counts, dtype=np.int64)
        if x.shape != self.counts.shape:
            return False
        if (x < 0).any() or (x > self.counts).any() or int(x.sum()) != self.panel_size:
            return False
        per_value = self.membership @ x
        if (per_value < self.minimums).any() or (per_value > self.maximums).any():
            return False
        return all(int(x[list(house)].sum()) <= 1 for house in self.households)


def check_people_panel(
    people: Sequence[Person], quotas: Sequence[Quota], panel: Sequence[str]
) -> list[str]:
    """Independently list every rule a panel of person ids breaks (empty: valid).

    Used by the tests and by anyone auditing a published lottery: it reads the
    people's features directly and counts, with no solver involved.
    """
    by_id = {person.id: person for person in people}
    problems: list[str] = []
    if len(set(panel)) != len(panel):
        problems.append("a person appears twice")
    unknown = [pid for pid in panel if pid not in by_id]
    if unknown:
        problems.append(f"unknown ids {unknown}")
        return problems
    for quota in quotas:
        count = sum(
            1 for pid in panel if by_id[pid].features.get(quota.feature) == quota.value
        )
        if not quota.minimum <= count <= quota.maximum:
            problems.append(
                f"{quota.feature}={quota.value}: {count} not in "
                f"[{quota.minimum}, {quota.maximum}]"
            )
    homes = [by_id[pid].household for pid in panel if by_id[pid].household is not None]
    if len(homes) != len(set(homes)):
        problems.append("two people from one household")
    return problems


def compile_instance(
    people: Sequence[Person], quotas: Sequence[Quota], panel_size: int
) -> Instance:
    """Validate plain inputs and group people into types."""
    if panel_size < 1:
        raise SortitionInputError(
            "the panel size must be at least 1", field="panel_size"
        )
    if not people:
        raise SortitionInputError("the pool is empty", field="people")
    if not quotas:
        raise SortitionInputError("there are no quotas", field="quotas")
    features: list[str] = []
    row_of: dict[tuple[str, str], int] = {}
    for index, quota in enumerate(quotas):
        key = (quota.feature, quota.value)
        if key in row_of:
            raise SortitionInputError(
                f"quota for {quota.feature}={quota.value} is given twice",
                field="quotas",
            )
        if quota.minimum < 0 or quota.maximum < quota.minimum:
            raise SortitionInputError(
                f"quota for {quota.feature}={quota.value} needs 0 <= min <= max, "
                f"got min {quota.minimum} and max {quota.maximum}",
                field="quotas",
            )
        row_of[key] = index
        if quota.feature not in features:
            features.append(quota.feature)

    seen_ids: set[str] = set()
    person_rows = np.zeros((len(people), len(features)), dtype=np.int64)
    for p_index, person in enumerate(people):
        if person.id in seen_ids:
            raise SortitionInputError(f"person id {person.id!r} appears twice")
        seen_ids.add(person.id)
        for f_index, feature in enumerate(features):
            value = person.features.get(feature)
            if value is None:
                raise SortitionInputError(
                    f"person {person.id!r} has no value for feature {feature!r}",
                    field=feature,
                )
            row = row_of.get((feature, value))
            if row is None:
                raise SortitionInputError(
                    f"person {person.id!r} has value {value!r} for feature "
                    f"{feature!r}, which has no quota",
                    field=feature,
                )
            person_rows[p_index, f_index] = row

    household_members: dict[str, list[int]] = {}
    for p_index, person in enumerate(people):
        if person.household is not None:
            household_members.setdefault(person.household, []).append(p_index)
    shared = {
        p_index
        for group in household_members.values()
        if len(group) > 1
        for p_index in group
    }

    type_of_profile: dict[tuple[int, ...], int] = {}
    members: list[list[int]] = []
    type_of_person = np.zeros(len(people), dtype=np.int64)
    for p_index in range(len(people)):
        if p_index in shared:
            type_index = len(members)
            members.append([p_index])
        else:
            profile = tuple(int(r) for r in person_rows[p_index])
            found = type_of_profile.get(profile)
            if found is None:
                found = len(members)
                type_of_profile[profile] = found
                members.append([])
            type_index = found
            members[type_index].append(p_index)
        type_of_person[p_index] = type_index

    type_count = len(members)
    membership = np.zeros((len(quotas), type_count), dtype=np.int64)
    for type_index, group in enumerate(members):
        membership[person_rows[group[0]], type_index] = 1
    households = tuple(
        tuple(int(type_of_person[p]) for p in group)
        for group in household_members.values()
        if len(group) > 1
    )
    return Instance(
        person_ids=tuple(person.id for person in people),
        quotas=tuple(quotas),
        features=tuple(features),
        panel_size=panel_size,
        members=tuple(tuple(group) for group in members),
        counts=np.array([len(group) for group in members], dtype=np.int64),
        membership=membership,
        households=households,
        person_rows=person_rows,
    )
