#!/usr/bin/env python3
"""Writes the API Gateway REST (v1) proxy events in events/ for the state router's routes.

They are what `sam local invoke StateRouterFunction -e events/<file>` feeds the function, and what
tests/lambda/test_invoke_events.py sends through `cargo lambda invoke`. The order is the canonical
form of events/orders/small-clp.xml (run `orderflow convert` on it); rerun after changing it:

    orderflow convert events/orders/small-clp.xml > /tmp/small.json
    scripts/gen-api-events.py /tmp/small.json
"""

import json
import sys
from pathlib import Path

EVENTS = Path(__file__).resolve().parent.parent / "events"


def proxy_event(method, path, body=None, query=None, resource=None):
    headers = {"Content-Type": "application/json", "x-api-key": "example-key", "Host": "example.execute-api.us-east-1.amazonaws.com"}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "abc123",
            "stage": "dev",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "127.0.0.1", "apiKeyId": "example-key-id"},
            "resourcePath": resource or path,
            "httpMethod": method,
            "apiId": "example",
            "path": f"/dev{path}",
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def main(order_file):
    order = json.loads(Path(order_file).read_text())
    key = order["order_key"]
    events = {
        "state-router-post-order": proxy_event("POST", "/orders", body=order),
        "state-router-get-order": proxy_event("GET", f"/orders/{key}", resource="/orders/{key}"),
        "state-router-list-orders": proxy_event("GET", "/orders", query={"state": "registered", "limit": "10"}),
        "state-router-stats": proxy_event("GET", "/stats"),
    }
    for stage in ["issuance-dte", "broadcast-dte", "dispatch", "deliver", "cancel"]:
        events[f"state-router-{stage}"] = proxy_event(
            "POST", f"/orders/{key}/{stage}", body={"attempt": 0}, resource="/orders/{key}/{stage}"
        )
    for name, event in events.items():
        (EVENTS / f"{name}.json").write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
