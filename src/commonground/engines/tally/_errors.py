"""Errors raised by the tally engine, each naming file, location and field.

``str(error)`` is ``FILE:LOCATION: FIELD: message``; the CLI prints it after
``commonground tally: error:`` and exits with ``error.exit_code``.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_CONFIGURATION = 4
EXIT_ABORTED = 5


def quoted(text: str, width: int = 40) -> str:
    """``text`` as an error message quotes it: repr, cut to about ``width``
    characters, so a 5,000-digit value cannot turn an error into a page.

    >>> quoted("9" * 100, 10)
    "'9999999...'"
    """
    return repr(text) if len(text) <= width else repr(text[: width - 3] + "...")


class TallyError(Exception):
    """Base class of every error the tally engine raises on purpose."""

    exit_code: int = EXIT_INTERNAL


class TallyInputError(TallyError):
    """Malformed or inconsistent input data (exit code 3 unless given).

    >>> str(TallyInputError("ward.blt", "line 4", "weight", "not a positive integer"))
    'ward.blt:line 4: weight: not a positive integer'
    """

    def __init__(
        self,
        path: object,
        location: str,
        field: str,
        message: str,
        *,
        exit_code: int = EXIT_INPUT,
    ) -> None:
        self.path = str(path)
        self.location = location
        self.field = field
        self.message = message
        self.exit_code = exit_code
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.path}:{self.location}: {self.field}: {self.message}"


class TallyConfigurationError(TallyInputError):
    """Invalid configuration or unsupported option (exit code 4)."""

    def __init__(self, path: object, location: str, field: str, message: str) -> None:
        super().__init__(path, location, field, message, exit_code=EXIT_CONFIGURATION)


class TallyAbortedError(TallyError):
    """The count cannot go on under the chosen rules (exit code 5)."""

    exit_code = EXIT_ABORTED


class TallyUsageError(TallyError):
    """Options that do not fit together, e.g. ``--seats 2`` with IRV (exit code 4)."""

    exit_code = EXIT_CONFIGURATION
