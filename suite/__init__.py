"""The harness of gtcheck: how a test runs, from the command line to the results.

A test is one frozen value (`suite.config.Test`) that flows through stages, Jepsen-style:
the CLI (`suite.cli`) builds it; `suite.core.run_test` resolves its target, workload and
nemesis packages by name (`suite.registry`), brings the target up and creates the global
table, then hands the workload's client and generators and the nemesis to the runner
(`suite.runner`). The runner turns pure generators (`suite.generator`: values that say
which operation comes next, on which thread, and when) into real operations on one thread
per client plus one for the nemesis, and records every invocation and completion in the
history (`results.history`) as it happens. After the main phase, a final phase heals every
fault and reads every region. The checkers (`checkers`) then judge the history alone, and
the run store (`results.store`) keeps the configuration, history and results together.
Roles are small protocols (`suite.protocols`); errors share one root (`gtcheck.errors`,
the ground floor every part stands on; `suite.errors` re-exports it).
"""
