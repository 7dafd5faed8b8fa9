"""Remote clients: a run's clients on hosts in every region, driven over SSH.

`gtcheck run --hosts FILE` keeps the control node (this machine) in charge of the run --
generator, process ids, nemesis, history, checkers -- and sends each client operation to
a `gtcheck worker` on a host of the operation's region, which performs it with the
workload's boto3 client and answers with the host's own timing. The parts:
`hosts` (the hosts file), `ssh` (paramiko, host keys verified), `worker` (the worker
process), `clock` (offsets and error bounds; mapping worker times soundly), `fleet` (the
control node's sessions, the remote client and the merged history), `faults` (host-level
nemeses over SSH), `run` (what suite.core calls).
"""
