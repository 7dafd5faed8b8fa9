"""gtcheck's bundled DynamoDB global-tables emulator (see emulator/deployment.py).

`Deployment` starts one DynamoDB-compatible HTTP endpoint per region plus an admin (fault)
API, in process; `gtcheck emulator serve` does the same from the shell. The replication
seam for the async (LWW) and MRSC engines is emulator/engine.py.
"""

from emulator.deployment import DEFAULT_REGIONS, DEFAULT_STATE_FILE, Deployment

__all__ = ["Deployment", "DEFAULT_REGIONS", "DEFAULT_STATE_FILE"]
