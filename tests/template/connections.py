"""The shipped integration apps (config/apps/) and the deployed connections
(config/connections.json), read the way the template tests need them (docs/APPS.md).

The functions read these from the apps table at run time; the template only grants what the
deployed connections need (which SSM prefixes their secrets are under, which connections have a
poll schedule) and sizes timeouts from what they render into. A connection's rendered value is
approximated here for the one field the tests need (timeouts): a `{{property.NAME}}` placeholder
takes the connection's value, else the property's default, else the version's `retry` value,
else the runtime's default, as shared/src/apps/bind.rs renders it.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from translate import REPO_ROOT

CONFIG = REPO_ROOT / "config"
PROPERTY = re.compile(r"^\{\{property\.([a-z][a-z0-9_]*)\}\}$")
SECRET = re.compile(r"\{\{secret\.([a-z][a-z0-9_]*)\}\}")


def _read(path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def _definitions() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted((CONFIG / "apps").glob("*.json")):
        definition = _read(path)
        assert path.name == f"{definition['key']}@{definition['version']}.json", path.name
        found[(definition["key"], definition["version"])] = definition
    assert found, "no app definitions in config/apps"
    return found


def connections(file: str = "connections.json") -> list[dict[str, Any]]:
    """The connections of a connections file (the deployed one by default)."""
    found = _read(CONFIG / file)["connections"]
    assert found, file
    return found


def connection(id: str, file: str = "connections.json") -> dict[str, Any]:
    (found,) = [c for c in connections(file) if c["id"] == id]
    return found


def definition(conn: dict[str, Any]) -> dict[str, Any]:
    """The app definition a connection is pinned to."""
    return _definitions()[(conn["app"], conn["version"])]


def part(conn: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The connection's trigger (`webhook`, `poll`) or action (`shop`, `erp`), if its app has it."""
    d = definition(conn)
    return d.get("triggers", {}).get(kind) or d.get("actions", {}).get(kind)


def with_part(kind: str, file: str = "connections.json") -> list[dict[str, Any]]:
    """The connections whose app version has that trigger or action."""
    return [c for c in connections(file) if part(c, kind)]


def secret_refs(conn: dict[str, Any], kind: str) -> set[str]:
    """The secret references the connection's trigger or action uses."""
    used = SECRET.findall(json.dumps(part(conn, kind)["config"]))
    assert used, f"{conn['id']}: its {kind} uses no secret"
    return {conn["secrets"][name] for name in used}


def ssm_prefix(ref: str) -> str:
    """`ssm:/orderflow/dev/shops/x` → `/orderflow/${Stage}/shops/*`: the parameter path an IAM
    statement of the template grants for that secret."""
    assert ref.startswith("ssm:/orderflow/dev/"), f"not a deployed dev SSM reference: {ref}"
    folder = ref.removeprefix("ssm:/orderflow/dev/").rsplit("/", 1)[0]
    return f"/orderflow/${{Stage}}/{folder}/*"


def timeout_ms(conn: dict[str, Any], kind: str, runtime_default: int = 10_000) -> int:
    """The `timeout_ms` the connection's trigger or action renders into."""
    d = definition(conn)
    value = part(conn, kind)["config"].get("timeout_ms")
    if isinstance(value, str):
        name = PROPERTY.match(value).group(1)
        (prop,) = [p for p in d["properties"] if p["name"] == name]
        value = conn["properties"].get(name, prop.get("default"))
    if value is None:
        value = d.get("retry", {}).get("timeout_ms", runtime_default)
    return int(value)
