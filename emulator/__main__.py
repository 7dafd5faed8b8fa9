"""`python -m emulator serve|fault ...`: the emulator CLI without the gtcheck wrapper."""

from emulator.cli import emulator

if __name__ == "__main__":
    emulator(prog_name="python -m emulator")
