"""Bit-exact ``java.util.Random`` and ``Collections.shuffle``.

Lots in Droop and RCTab are drawn with Java's linear congruential generator, so
reproducing their results needs the same sequence of numbers.

>>> JavaRandom(0).next_int()
-1155484576
>>> java_shuffle(list("ABCDE"), 12345)
['D', 'E', 'A', 'C', 'B']
"""

from __future__ import annotations

from typing import TypeVar

_MULTIPLIER = 0x5DEECE66D
_ADDEND = 0xB
_MASK = (1 << 48) - 1

T = TypeVar("T")


class JavaRandom:
    """The generator of ``java.util.Random`` with the same seed gives the same draws."""

    def __init__(self, seed: int) -> None:
        self._state = (seed ^ _MULTIPLIER) & _MASK

    def next_bits(self, bits: int) -> int:
        """Java's protected ``next(bits)``: the top ``bits`` bits as a signed int."""
        self._state = (self._state * _MULTIPLIER + _ADDEND) & _MASK
        value = self._state >> (48 - bits)
        if value >= 1 << 31:
            value -= 1 << 32
        return value

    def next_int(self, bound: int | None = None) -> int:
        """``nextInt()`` (any 32-bit int) or ``nextInt(bound)`` (0 <= r < bound)."""
        if bound is None:
            return self.next_bits(32)
        if bound <= 0:
            raise ValueError("bound must be positive")
        if bound & (bound - 1) == 0:
            return (bound * self.next_bits(31)) >> 31
        while True:
            bits = self.next_bits(31)
            value = bits % bound
            if bits - value + (bound - 1) < 1 << 31:
                return value

    def next_double(self) -> float:
        """``nextDouble()``: uniform in [0, 1) with 53 random bits."""
        return ((self.next_bits(26) << 27) + self.next_bits(27)) * 2.0**-53


def java_shuffle(items: list[T], seed_or_random: int | JavaRandom) -> list[T]:
    """Return a copy of ``items`` shuffled as ``Collections.shuffle(list, rnd)``."""
    rng = (
        seed_or_random
        if isinstance(seed_or_random, JavaRandom)
        else JavaRandom(seed_or_random)
    )
    result = list(items)
    for i in range(len(result) - 1, 0, -1):
        j = rng.next_int(i + 1)
        result[i], result[j] = result[j], result[i]
    return result
