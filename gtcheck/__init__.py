"""The ground floor of gtcheck: what every part may stand on.

The parts of the repository (suite, workloads, checkers, nemesis, results, emulator) are
rooms of one house; this package is the floor under all of them and imports none of them.
It holds only what every room needs to share: the one exception hierarchy
(`gtcheck.errors`). A part that raises a deliberate error imports it from here, so no
arrow runs from the emulator, a checker or the report up to the harness (`suite`).
"""
