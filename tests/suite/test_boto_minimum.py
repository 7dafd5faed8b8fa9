"""The boto3 / botocore minimum in pyproject.toml is enough for every request gtcheck sends.

botocore validates parameters against its bundled service model before any request: with
a model older than MRSC's, `MultiRegionConsistency` and `GlobalTableWitnessUpdates` fail
validation and no MRSC table can be set up. The minimum was found from the released
models (botocore 1.38.46's DynamoDB model has MultiRegionConsistency but not
GlobalTableWitnessUpdates; 1.39.0's has both). This test installs exactly that minimum
into a second virtual environment (cached under .gtcheck/, so it costs one install per
machine) and sends, through botocore's Stubber (real parameter validation, no network),
the MRSC set-up, the witness removal and the FIS calls gtcheck makes.
"""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = r'''
import boto3, botocore
from botocore.stub import ANY, Stubber
kw = dict(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
ddb, fis = boto3.client("dynamodb", **kw), boto3.client("fis", **kw)
with Stubber(ddb) as s:
    s.add_response("update_table", {"TableDescription": {
        "MultiRegionConsistency": "STRONG",
        "GlobalTableWitnesses": [{"RegionName": "us-west-2", "WitnessStatus": "CREATING"}]}})
    ddb.update_table(TableName="gtcheck-t", MultiRegionConsistency="STRONG",
                     ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}],
                     GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    s.add_response("update_table", {"TableDescription": {}})
    ddb.update_table(TableName="gtcheck-t",
                     ReplicaUpdates=[{"Delete": {"RegionName": "us-east-2"}}],
                     GlobalTableWitnessUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
with Stubber(fis) as s:
    s.add_response("start_experiment", {"experiment": {"id": "E"}})
    fis.start_experiment(clientToken="t", experimentTemplateId="T",
                         tags={"gtcheck": "pause-replication"})
    s.add_response("list_experiments", {"experiments": []})
    fis.list_experiments()
print(boto3.__version__, botocore.__version__)
'''


def minimum(name: str) -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in deps if re.match(rf"{name}\s*>=", d))
    return spec.split(">=", 1)[1].strip()


@pytest.mark.slow
def test_the_pinned_minimum_accepts_every_mrsc_and_fis_request():
    boto3_min, botocore_min = minimum("boto3"), minimum("botocore")
    venv = ROOT / ".gtcheck" / f"venv-boto-{boto3_min}-{botocore_min}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", f"boto3=={boto3_min}",
                        f"botocore=={botocore_min}"], check=True, timeout=600)
    p = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [boto3_min, botocore_min]
