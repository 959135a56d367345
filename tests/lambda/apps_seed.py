"""An apps table in moto holding the shipped app definitions (config/apps/) and the local
connections (config/connections.local.json), as `orderflow apps` would write it: one item per
record in DynamoAppStore's layout (shared/src/adapters/aws/app_store.rs) — `pk` (S), `revision`
(N) and `body` (S), the record as JSON (shared/src/apps/registry.rs: VersionRecord, AppRecord,
Connection, which refuse unknown fields).

Used by tests/lambda/conftest.py and bench/lambda-env.py (which imports this file by its path).

A local connection names its secrets `local:<name>` (config/local-secrets.json), which only the
CLI resolves; a function reads SSM, so each such reference is written as
`ssm:/orderflow/dev/local/<name>`, a parameter put here with the local value.
"""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
LOCAL_SECRET_PARAMETERS = "/orderflow/dev/local/"
REVISION = 1


def _semver(version):
    return tuple(int(part) for part in version.split("."))


def definitions():
    """Every shipped app definition, as its file has it."""
    found = [json.loads(path.read_text()) for path in sorted((CONFIG / "apps").glob("*.json"))]
    assert found, "no app definitions in config/apps"
    return found


def local_connections():
    return json.loads((CONFIG / "connections.local.json").read_text())["connections"]


def _ssm_reference(reference):
    name = reference.removeprefix("local:")
    assert name != reference, f"not a local: secret reference: {reference}"
    return f"ssm:{LOCAL_SECRET_PARAMETERS}{name}"


def records(properties=None):
    """The items to put, as (pk, body) pairs. `properties` is {connection id: {name: value}},
    values that replace the local connection's (e.g. a stand-in's address)."""
    properties = properties or {}
    unknown = set(properties) - {c["id"] for c in local_connections()}
    assert not unknown, f"no local connections {sorted(unknown)}"
    found = []
    latest = {}
    for definition in definitions():
        key, version = definition["key"], definition["version"]
        found.append((f"version#{key}@{version}", {"definition": definition, "revision": REVISION}))
        latest[key] = max(latest.get(key, version), version, key=_semver)
    for key, version in sorted(latest.items()):
        found.append((f"app#{key}", {"key": key, "default_version": version, "revision": REVISION}))
    for connection in local_connections():
        connection = {
            **connection,
            "properties": {**connection.get("properties", {}), **properties.get(connection["id"], {})},
            "secrets": {field: _ssm_reference(ref) for field, ref in connection.get("secrets", {}).items()},
            "revision": REVISION,
        }
        found.append((f"connection#{connection['id']}", connection))
    return found


def seed(dynamodb, ssm, table, properties=None):
    """Creates `table` (hash key `pk`) and puts every record in it, and the local secrets in SSM
    under LOCAL_SECRET_PARAMETERS; returns the table's name."""
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    for pk, body in records(properties):
        dynamodb.put_item(
            TableName=table,
            Item={"pk": {"S": pk}, "revision": {"N": str(REVISION)}, "body": {"S": json.dumps(body)}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    for name, value in json.loads((CONFIG / "local-secrets.json").read_text()).items():
        ssm.put_parameter(Name=f"{LOCAL_SECRET_PARAMETERS}{name}", Value=value, Type="SecureString", Overwrite=True)
    return table
