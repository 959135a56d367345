"""The back-office portal in a real browser: `orderflow serve` with two local accounts, one order
driven to broadcast_failed by the simulated DTE provider, and Debian's Chromium under Playwright."""

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "browser-test-key"
OPERATOR = ("ana", "operator-password-1")
VIEWER = ("vic", "viewer-password-22")
CHROMIUM = "/usr/bin/chromium"
# The router's broadcast and the recovery workflow's retries (attempts 2 to 5, then it gives up)
# fail; the operator's retry is the sixth broadcast, and passes.
BROADCAST_FAILURES = 5


def orderflow_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    # --workspace: the features `cargo test --workspace` resolved, so after scripts/test's test
    # build this rebuilds nothing (`-p orderflow-cli` alone would resolve others and rebuild).
    subprocess.run(["cargo", "build", "--quiet", "--workspace", "--bin", "orderflow"], cwd=ROOT, check=True)
    binary = target / "debug" / "orderflow"
    assert binary.is_file(), f"{binary} was not built"
    return binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, method: str, path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{base}{path}", data=data, method=method)
    req.add_header("x-api-key", API_KEY)
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


class Served:
    def __init__(self, base: str, key: str, number: str):
        self.base = base
        self.key = key
        self.number = number


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    # A missing browser fails the run: CI installs it in scripts/setup.
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: run scripts/setup (apt-get install chromium)"
    binary = orderflow_binary()
    state = tmp_path_factory.mktemp("serve")
    accounts = state / "console-accounts.json"
    for (name, password), role in [(OPERATOR, "operators"), (VIEWER, "viewers")]:
        subprocess.run(
            [binary, "account", "add", name, "--role", role, "--file", accounts],
            input=password + "\n", text=True, check=True, cwd=ROOT,
        )
    port = free_port()
    log = open(state / "serve.log", "w")
    proc = subprocess.Popen(
        [binary, "serve", "--port", str(port), "--api-key", API_KEY, "--state", state,
         "--dte-broadcast-failures", str(BROADCAST_FAILURES), "--recovery-backoff-seconds", "0"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://localhost:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/console/sign-in", timeout=1)
                break
            except OSError:
                assert proc.poll() is None, (state / "serve.log").read_text()
                assert time.time() < deadline, "serve did not start"
                time.sleep(0.2)
        converted = subprocess.run(
            [binary, "convert", ROOT / "events/orders/small-clp.xml"], capture_output=True, text=True, check=True
        )
        order = json.loads(converted.stdout)
        order_key = api(base, "POST", "/orders", order)["key"]
        deadline = time.time() + 60
        while api(base, "GET", f"/orders/{order_key}")["state"] != "broadcast_failed":
            assert time.time() < deadline, api(base, "GET", f"/orders/{order_key}")
            time.sleep(0.3)
        yield Served(base, order_key, order["order_number"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
