"""`gtcheck emulator ...`: serve the emulator and drive its fault API from the shell."""

from __future__ import annotations

import click


@click.group(name="emulator")
def emulator() -> None:
    """Run the bundled DynamoDB global-tables emulator and inject faults into it."""
