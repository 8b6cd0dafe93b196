"""Refusals the assemblies services give, with a message for the person who asked."""

from __future__ import annotations


class AssemblyRefused(Exception):
    """What was asked cannot happen now (a draw before the pool is frozen, a second
    initial draw, registration after the pool closed, impossible quotas)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RegistrationRateLimited(AssemblyRefused):
    """Too many registrations from one client address in a short time."""


class HoneypotFilled(Exception):
    """The hidden field a person never sees was filled: a robot (answered as if it
    worked, so it learns nothing)."""
