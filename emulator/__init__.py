"""gtcheck's bundled DynamoDB global-tables emulator (see emulator/deployment.py).

`Deployment` starts one DynamoDB-compatible HTTP endpoint per region plus an admin (fault)
API, in process; `gtcheck emulator serve` does the same from the shell. The replication
seam for the async (LWW) and MRSC engines is emulator/engine.py. The names are imported
on first use (PEP 562), so `emulator.bugs` (the help of `gtcheck run`) does not pay for
the HTTP servers, boto3-free as they are.
"""

__all__ = ["Deployment", "DEFAULT_REGIONS", "DEFAULT_STATE_FILE"]


def __getattr__(name: str):
    if name in __all__:
        from emulator import deployment
        return getattr(deployment, name)
    raise AttributeError(f"module 'emulator' has no attribute {name!r}")
