"""The hosts file of `gtcheck run --hosts FILE`: which machines run the clients of each region.

Clients must sit in each region (a client in Virginia reading from Tokyo measures the
Pacific, not the table), and one machine may not drive enough load, so a remote run names,
per region, one or more hosts reached over SSH. The file is YAML (JSON is YAML too):

    control_address: 10.237.16.1      # optional: where the hosts reach this machine; the
                                      # embedded emulator binds it instead of 127.0.0.1
    known_hosts: ~/.ssh/known_hosts   # optional: the host keys to verify (the default)
    regions:
      us-east-1:
        - {address: 10.237.16.11, user: gtcheck, key: ~/.ssh/id_ed25519}
      us-east-2:
        - {name: ohio-1, address: 10.237.16.12, port: 22, user: gtcheck, key: ...,
           sudo: true, gtcheck: /opt/gtcheck/bin/gtcheck}

Per host: `address` and `user` are required; `port` (22), `key` (a private key file; none:
the user's default keys), `name` (`<region>-<n>`: what histories and messages call it),
`gtcheck` (the gtcheck executable there, `gtcheck` on its PATH), `sudo` (run the worker and
the host faults through `sudo -n`; default: when the user is not root), and
`clock_offset_ms` (a planted clock error for tests: the worker adds it to every reading of
its clock). Anything else is a typo and refused, naming the file and the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from suite.errors import BadInput

HOST_KEYS = frozenset(("name", "address", "port", "user", "key", "gtcheck", "sudo",
                       "clock_offset_ms"))
TOP_KEYS = frozenset(("control_address", "known_hosts", "regions"))


@dataclass(frozen=True)
class HostSpec:
    """One host of a remote run, as the hosts file names it."""

    name: str
    region: str
    address: str
    user: str
    port: int = 22
    key: str | None = None
    gtcheck: str = "gtcheck"
    sudo: bool = False
    clock_offset_ms: float = 0.0

    def where(self) -> str:
        """`name (user@address:port)`: how every message names the host."""
        return f"{self.name} ({self.user}@{self.address}:{self.port})"


@dataclass(frozen=True)
class HostsFile:
    path: str
    hosts: tuple[HostSpec, ...]
    control_address: str | None = None
    known_hosts: str | None = None

    def regions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.region for h in self.hosts))

    def in_region(self, region: str) -> tuple[HostSpec, ...]:
        return tuple(h for h in self.hosts if h.region == region)

    def check_covers(self, regions: Sequence[str]) -> None:
        """Every region of the test needs a host; a host in another region is a mistake."""
        missing = [r for r in regions if not self.in_region(r)]
        if missing:
            raise BadInput(f"{self.path}: no host for region(s) {', '.join(missing)}")
        extra = [r for r in self.regions() if r not in regions]
        if extra:
            raise BadInput(f"{self.path}: region(s) {', '.join(extra)} are not among the "
                           f"test's --regions {','.join(regions)}")


def _known_keys_only(d: Mapping, known: frozenset, where: str) -> None:
    """A key we do not know is a typo: refuse it, listing the known ones."""
    unknown = sorted(set(map(str, d)) - known)
    if unknown:
        raise BadInput(f"{where}: unknown key(s) {', '.join(unknown)} "
                       f"(known: {', '.join(sorted(known))})")


def _expand(path: str) -> str:
    return os.path.expanduser(os.path.expandvars(path))


def parse_hosts(doc: Any, path: str = "<hosts>") -> HostsFile:
    """A parsed YAML/JSON document as a `HostsFile`; BadInput naming `path` otherwise."""
    if not isinstance(doc, Mapping):
        raise BadInput(f"{path}: expected a mapping with \"regions\"")
    _known_keys_only(doc, TOP_KEYS, path)
    regions = doc.get("regions")
    if not isinstance(regions, Mapping) or not regions:
        raise BadInput(f"{path}: expected \"regions\": {{region: [host, ...]}}")
    hosts: list[HostSpec] = []
    for region, entries in regions.items():
        if isinstance(entries, Mapping):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            raise BadInput(f"{path}: region {region}: expected a list of hosts")
        for i, h in enumerate(entries, 1):
            hosts.append(_host(h, str(region), i, path))
    names = [h.name for h in hosts]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise BadInput(f"{path}: host name(s) used twice: {', '.join(dup)}")
    control = doc.get("control_address")
    if control is not None and not isinstance(control, str):
        raise BadInput(f"{path}: control_address must be an address, got {control!r}")
    known = doc.get("known_hosts")
    if known is not None and not isinstance(known, str):
        raise BadInput(f"{path}: known_hosts must be a file path, got {known!r}")
    return HostsFile(path, tuple(hosts), control, _expand(known) if known else None)


def _host(h: Any, region: str, i: int, path: str) -> HostSpec:
    where = f"{path}: region {region}, host {i}"
    if not isinstance(h, Mapping):
        raise BadInput(f"{where}: expected a mapping with address and user, got {h!r}")
    _known_keys_only(h, HOST_KEYS, where)
    for k in ("address", "user"):
        if not isinstance(h.get(k), str) or not h[k]:
            raise BadInput(f"{where}: {k} is required (a string)")
    port = h.get("port", 22)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise BadInput(f"{where}: port must be an integer 1-65535, got {port!r}")
    for k in ("key", "gtcheck", "name"):
        if k in h and (not isinstance(h[k], str) or not h[k]):
            raise BadInput(f"{where}: {k} must be a non-empty string, got {h[k]!r}")
    sudo = h.get("sudo", h["user"] != "root")
    if not isinstance(sudo, bool):
        raise BadInput(f"{where}: sudo must be true or false, got {sudo!r}")
    offset = h.get("clock_offset_ms", 0)
    if not isinstance(offset, (int, float)) or isinstance(offset, bool):
        raise BadInput(f"{where}: clock_offset_ms must be a number, got {offset!r}")
    return HostSpec(name=h.get("name") or f"{region}-{i}", region=region,
                    address=h["address"], user=h["user"], port=port,
                    key=_expand(h["key"]) if h.get("key") else None,
                    gtcheck=h.get("gtcheck", "gtcheck"), sudo=sudo,
                    clock_offset_ms=float(offset))


def read_hosts(path: str | os.PathLike) -> HostsFile:
    """Read and check a hosts file (YAML or JSON)."""
    import yaml  # PyYAML: only remote runs need it
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except OSError as e:
        raise BadInput(f"{path}: cannot read the hosts file ({e.strerror})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise BadInput(f"{path}: not valid YAML{at}: "
                       f"{getattr(e, 'problem', None) or e}") from None
    return parse_hosts(doc, path)
