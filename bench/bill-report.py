"""Prints the AWS bill per million orders (markdown) from what `bill` counted.

usage: bill-report.py BILL_JSON PRICES_JSON DURATIONS_JSON [PYTHON_WARM_JSON]

BILL_JSON       bench/src/bin/bill.rs: requests and billed units per order, per door
PRICES_JSON     bench/prices.json: list prices per million units, with their date and sources
DURATIONS_JSON  bench/bill-durations.json: the Rust functions' billed ms (docs/PERFORMANCE.md)
PYTHON_WARM_JSON  bench/peers/python/lambda_warm.py: the Python peer's warm durations

Lambda compute is billed ms × 128 MB at the arm64 GB-second price. The queue reader waits for
the Orders API's answer, so each of its invocations is billed its own time plus the state
router's. Everything but Lambda compute is the same for the Python flow: the same requests.
"""

import json
import math
import sys
from collections import defaultdict

MEMORY_GB = 128 / 1024
SERVICE = {
    "lambda_request": "Lambda requests",
    "lambda_gb_second": "Lambda compute",
    "api_gateway_rest_request": "API Gateway (REST)",
    "sqs_fifo_request": "SQS (FIFO)",
    "dynamodb_write_request_unit": "DynamoDB writes",
    "dynamodb_read_request_unit": "DynamoDB reads",
    "s3_put_class_request": "S3 PUT class",
    "s3_get_class_request": "S3 GET class",
    "ses_message": "SES",
    "step_functions_transition": "Step Functions",
    "secrets_manager_api_call": "Secrets Manager",
    "ssm_standard_api_call": "SSM Parameter Store",
    "free": "not billed per call",
}
UNIT_NAME = {
    "lambda_request": "invocations",
    "api_gateway_rest_request": "requests",
    "sqs_fifo_request": "requests (64 KB chunks)",
    "dynamodb_write_request_unit": "WRU",
    "dynamodb_read_request_unit": "RRU",
    "s3_put_class_request": "requests",
    "s3_get_class_request": "requests",
    "ses_message": "messages",
    "step_functions_transition": "transitions",
    "secrets_manager_api_call": "calls",
    "ssm_standard_api_call": "calls",
    "free": "—",
}


def billed_ms(function, own):
    ms = math.ceil(own.get(function, 0))
    if function == "queue-reader":
        ms += math.ceil(own.get("state-router", 0))
    return ms


def door_costs(lines, prices, ms):
    """Dollars per million orders by service; Lambda compute from `ms` (billed ms per invocation)."""
    costs = defaultdict(float)
    for line in lines:
        unit = line["unit"]
        if unit == "lambda_request":
            costs["Lambda requests"] += line["units"] * prices["lambda_request"]
            seconds = line["requests"] * billed_ms(line["by"], ms) / 1000
            costs["Lambda compute"] += seconds * MEMORY_GB * prices["lambda_gb_second"]
        elif unit != "free":
            costs[SERVICE[unit]] += line["units"] * prices[unit]
    return costs


def main():
    bill = json.load(open(sys.argv[1]))
    price_list = json.load(open(sys.argv[2]))
    prices = price_list["per_million"]
    durations = json.load(open(sys.argv[3]))
    rust_ms = durations["rust_billed_ms"]
    python = json.load(open(sys.argv[4])) if len(sys.argv) > 4 else None
    python_ms = {f: math.ceil(s["median"]) for f, s in python.items()} if python else None
    if python_ms:
        # The recovery tasks have no peer: the Python flow is billed the Rust figures for them.
        borrowed = sorted(set(rust_ms) - set(python_ms))
        python_ms.update({f: rust_ms[f] for f in borrowed})

    print(f"Prices: {price_list['region']} list prices of {price_list['date']} (bench/prices.json); "
          "Lambda at 128 MB arm64.")
    for door in bill["doors"]:
        lines = door["per_order"]
        print()
        print(f"### {door['door']} door: AWS requests per order (mean of {door['orders']} orders)")
        print()
        print("| service | request | made by | requests | billed |")
        print("|---|---|---|--:|--:|")
        for line in sorted(lines, key=lambda l: (SERVICE[l["unit"]], l["operation"], l["by"])):
            units = f"{line['units']:g} {UNIT_NAME[line['unit']]}" if line["unit"] != "free" else "—"
            print(f"| {SERVICE[line['unit']]} | {line['operation']} | {line['by']} | {line['requests']:g} | {units} |")
        print()
        invocations = {l["by"]: l["requests"] for l in lines if l["unit"] == "lambda_request"}
        print("| function | invocations | Rust billed ms | Python peer billed ms |")
        print("|---|--:|--:|--:|")
        for function, n in sorted(invocations.items()):
            py = billed_ms(function, python_ms) if python_ms else "—"
            if python_ms and function in borrowed:
                py = f"{py} (Rust's: no peer)"
            print(f"| {function} | {n:g} | {billed_ms(function, rust_ms)} | {py} |")
        rust = door_costs(lines, prices, rust_ms)
        peer = door_costs(lines, prices, python_ms) if python_ms else None
        print()
        print(f"### {door['door']} door: cost per million orders")
        print()
        print("| service | Rust | Python peer |")
        print("|---|--:|--:|")
        for service in sorted(rust, key=lambda s: -rust[s]):
            print(f"| {service} | ${rust[service]:.2f} | {f'${peer[service]:.2f}' if peer else '—'} |")
        total_rust = sum(rust.values())
        total_peer = sum(peer.values()) if peer else None
        print(f"| **total** | **${total_rust:.2f}** | {f'**${total_peer:.2f}**' if peer else '—'} |")

    cold = durations["rust_cold_start_ms"]
    print()
    print("Cold starts (INIT is billed for every runtime since 2025-08-01): $ per million cold starts, "
          f"128 MB arm64, from {cold['source']}:")
    print()
    print("| function | Rust init ms | Python peer init ms | Rust $ | Python $ |")
    print("|---|--:|--:|--:|--:|")
    for function, rust_init in cold["rust"].items():
        py_init = cold["python"][function]
        dollars = lambda ms: math.ceil(ms) / 1000 * MEMORY_GB * prices["lambda_gb_second"]
        print(f"| {function} | {rust_init} | {py_init} | ${dollars(rust_init):.2f} | ${dollars(py_init):.2f} |")


if __name__ == "__main__":
    main()
