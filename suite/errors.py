"""The exception hierarchy, as the harness has always named it: `gtcheck.errors`
re-exported (the classes are the same objects, so `except suite.errors.BadInput` still
catches every BadInput). New code outside `suite` imports `gtcheck.errors`."""

from gtcheck.errors import BadInput, GeneratorError, GtcheckError, SetupError

__all__ = ["GtcheckError", "BadInput", "SetupError", "GeneratorError"]
