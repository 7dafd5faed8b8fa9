"""The one exception hierarchy of gtcheck, on the ground floor (`gtcheck`), so that every
part can raise it without importing the harness.

Every error gtcheck raises on purpose derives from `GtcheckError`, so the CLI can turn
any of them into a clear message and an exit code instead of a traceback. `BadInput` is
for anything a user handed us (a file, an option, a config); `SetupError` for a target or
emulator that could not be brought up.
"""

from __future__ import annotations


class GtcheckError(Exception):
    """Root of every error gtcheck raises deliberately."""


class BadInput(GtcheckError):
    """Something the user gave us is malformed: a history file, an option, a config."""


class SetupError(GtcheckError):
    """A target, emulator or table could not be set up."""


class GeneratorError(GtcheckError):
    """A generator misbehaved: it waits forever, or emits an op for a busy process."""


def cli_naming(path: str, e: Exception) -> str:
    """The error's message, naming the file (every error line of `check` does)."""
    text = str(e)
    return text if path in text else f"{path}: {text}"
