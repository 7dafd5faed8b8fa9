"""SSH to the hosts of a remote run, with paramiko, verifying every host key.

`connect(spec, known_hosts=..., accept_new=...)` opens one authenticated SSH connection.
Host keys are checked against a known_hosts file (the hosts file's `known_hosts`, else
~/.ssh/known_hosts), as OpenSSH's `StrictHostKeyChecking yes` does: a host whose key is
not there is refused, and so is a host whose key differs from the one recorded (a
changed key is either a reinstalled host or a man in the middle; only a person can tell).
`accept_new=True` is the explicit opt-in of OpenSSH's `accept-new`: an unknown host's key
is appended to the file and used; a changed key is still refused.

Every failure is a `HostError`: one line that names the host and says what went wrong
(refused key, authentication, unreachable, timeout), never a traceback. `run(client,
argv)` runs one command (arguments quoted for the remote shell, never a shell string
assembled from input) and returns its exit status and output.
"""

from __future__ import annotations

import os
import shlex
import socket
import threading
from typing import Sequence

import paramiko

from suite.errors import SetupError
from suite.remote.hosts import HostSpec

CONNECT_TIMEOUT_S = 10.0


class HostError(SetupError):
    """A host could not be reached or refused us; the message names it."""


def default_known_hosts() -> str:
    return os.path.expanduser("~/.ssh/known_hosts")


class _Refuse(paramiko.MissingHostKeyPolicy):
    """StrictHostKeyChecking=yes: an unknown host is refused."""

    def __init__(self, path: str):
        self.path = path

    def missing_host_key(self, client, hostname, key):
        raise HostError(f"host key of {hostname} ({key.get_name()}) is not in {self.path}: "
                        "refusing to connect (add it to known_hosts, or pass "
                        "--ssh-accept-new to trust new hosts on first use)")


class _AcceptNew(paramiko.MissingHostKeyPolicy):
    """StrictHostKeyChecking=accept-new: an unknown host's key is appended to the file."""

    _lock = threading.Lock()

    def __init__(self, path: str):
        self.path = path

    def missing_host_key(self, client, hostname, key):
        line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
        with self._lock:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
        client.get_host_keys().add(hostname, key.get_name(), key)


def connect(spec: HostSpec, *, known_hosts: str | None = None, accept_new: bool = False,
            timeout_s: float = CONNECT_TIMEOUT_S) -> paramiko.SSHClient:
    """An authenticated connection to `spec`, its host key verified; HostError otherwise."""
    path = known_hosts or default_known_hosts()
    client = paramiko.SSHClient()
    if os.path.exists(path):
        try:
            client.load_host_keys(path)
        except (OSError, paramiko.SSHException) as e:
            raise HostError(f"{spec.where()}: cannot read known_hosts {path}: {e}") from None
    client.set_missing_host_key_policy(_AcceptNew(path) if accept_new else _Refuse(path))
    where = spec.where()
    try:
        client.connect(spec.address, port=spec.port, username=spec.user,
                       key_filename=spec.key, look_for_keys=spec.key is None,
                       allow_agent=False, timeout=timeout_s, banner_timeout=timeout_s,
                       auth_timeout=timeout_s)
    except HostError as e:
        client.close()
        raise HostError(f"{where}: {e}") from None
    except paramiko.BadHostKeyException as e:
        client.close()
        raise HostError(f"{where}: host key CHANGED ({e.key.get_name()} "
                        f"{e.key.get_fingerprint().hex()}; known_hosts {path} has another): "
                        "refusing to connect; if the host was really reinstalled, remove its "
                        "old line from known_hosts") from None
    except paramiko.AuthenticationException as e:
        client.close()
        raise HostError(f"{where}: authentication failed ({e}); check user and key") from None
    except (socket.timeout, TimeoutError):
        client.close()
        raise HostError(f"{where}: timed out after {timeout_s:g}s") from None
    except (paramiko.SSHException, OSError, ValueError) as e:
        client.close()
        raise HostError(f"{where}: cannot connect: {e}") from None
    return client


def command_line(argv: Sequence[str], *, sudo: bool = False) -> str:
    """`argv` quoted for the remote shell (SSH runs one command string), with `sudo -n`."""
    return shlex.join((["sudo", "-n"] if sudo else []) + [str(a) for a in argv])


def run(client: paramiko.SSHClient, argv: Sequence[str], *, sudo: bool = False,
        timeout_s: float = 30.0) -> tuple[int, str, str]:
    """Run one command to its end: (exit status, stdout, stderr)."""
    stdin, stdout, stderr = client.exec_command(command_line(argv, sudo=sudo),
                                                timeout=timeout_s)
    stdin.close()
    out = stdout.read().decode(errors="replace")
    err = stderr.read().decode(errors="replace")
    return stdout.channel.recv_exit_status(), out, err
