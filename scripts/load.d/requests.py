"""Writes the request mix for scripts/load as a Lua table: order posts, reads and signed
webhooks, each request used once; and the orders to preload for the reads.

usage: requests.py ROOT CANONICAL_JSON TOTAL API_KEY RUN OUT_LUA OUT_PRELOAD

Reads target orders preloaded before the run (their bodies go to OUT_PRELOAD, one a line):
a read of an order posted during the run could overtake its post on another connection.
"""
import base64
import hashlib
import hmac
import json
import sys
import time

root, canonical, total, api_key, run, out_lua, out_preload = sys.argv[1:8]
total = int(total)


def qualified(identifier):
    scheme = identifier.get("scheme")
    return f"{scheme}:{identifier['value']}" if scheme else identifier["value"]


def identity(party):
    """`Party::identity` in shared/src/order.rs."""
    for found in (party.get("endpoint_id"), (party.get("ids") or [None])[0], party.get("company_id")):
        if found:
            return qualified(found)
    return f"name:{party['name']}"


def order_key(order):
    """`OrderKey::derive` in shared/src/order.rs."""
    h = hashlib.sha256()
    for part in (identity(order["seller"]), identity(order["buyer"]), order["order_number"]):
        h.update(part.encode() + b"\x1f")
    readable = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in order["order_number"])[:40]
    return f"{readable}-{h.hexdigest()[:16]}"


base = json.load(open(canonical))
assert order_key(base) == base["order_key"], "the key derivation here must match the Rust one"

secrets = json.load(open(f"{root}/config/local-secrets.json"))
standard_key = base64.b64decode(secrets["standard"].removeprefix("whsec_"))
webhook_template = open(f"{root}/events/webhooks/standard-order-created.json").read()
now = int(time.time())


def lua(text):
    assert "]==]" not in text
    return f"[==[{text}]==]"


def order(number):
    o = dict(base, order_number=number)
    o["order_key"] = order_key(o)
    return o


preload = [order(f"PRELOAD-{run}-{i}") for i in range(20)]
requests, keys = [], []
for i in range(total):
    kind = i % 10
    if kind < 4:  # an order post
        posted = order(f"LOAD-{run}-{i}")
        keys.append(posted["order_key"])
        headers = {"x-api-key": api_key, "content-type": "application/json"}
        requests.append(("POST", "/orders", headers, json.dumps(posted)))
    elif kind < 8:  # a read: an order posted earlier, a state listing, or the stats
        paths = [f"/orders/{preload[i % 20]['order_key']}", "/orders?state=broadcast_dte&limit=10", "/stats",
                 f"/orders/{preload[(i + 7) % 20]['order_key']}"]
        requests.append(("GET", paths[kind - 4], {"x-api-key": api_key}, ""))
    else:  # a signed Standard Webhooks order.created
        body = webhook_template.replace("ord_01HQ7Z4K2M9V8T6R5P3N1B0C", f"ord_{run}_{i}").replace("SO-2026-0042", f"SO-{run}-{i}")
        msg_id = f"load-{run}-{i}"
        tag = hmac.new(standard_key, f"{msg_id}.{now}.".encode() + body.encode(), hashlib.sha256).digest()
        headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(now),
                   "webhook-signature": "v1," + base64.b64encode(tag).decode()}
        requests.append(("POST", "/webhooks/standard", headers, body))

with open(out_lua, "w") as f:
    f.write("return {\n")
    for method, path, headers, body in requests:
        h = ", ".join(f"[ {lua(k)} ] = {lua(v)}" for k, v in headers.items())
        f.write(f"{{method = {lua(method)}, path = {lua(path)}, headers = {{{h}}}, body = {lua(body)}}},\n")
    f.write("}\n")
with open(out_preload, "w") as f:
    f.write("".join(json.dumps(o) + "\n" for o in preload))
print(f"{len(requests)} requests: {len(keys)} order posts, {sum(1 for r in requests if r[0] == 'GET')} reads, "
      f"{sum(1 for r in requests if r[1].startswith('/webhooks'))} signed webhooks")
