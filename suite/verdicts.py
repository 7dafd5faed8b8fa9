"""Exit statuses, the same for every command: a verdict or "your input was bad".

0 valid, 1 invalid, 2 unknown (a checker could not decide, or gave up), 3 bad input or a
set-up failure. Scripts and CI rely on these, so they live in one place.
"""

from __future__ import annotations

from typing import Any

EXIT_VALID, EXIT_INVALID, EXIT_UNKNOWN, EXIT_BAD_INPUT = 0, 1, 2, 3


def exit_code(valid: Any) -> int:
    """The exit status for a verdict (True / False / "unknown"; anything else: unknown)."""
    if valid is True:
        return EXIT_VALID
    if valid is False:
        return EXIT_INVALID
    return EXIT_UNKNOWN
