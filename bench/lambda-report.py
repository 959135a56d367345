"""Prints the Lambda benchmark tables (markdown) from what cold-start and warm-memory wrote.

usage: lambda-report.py COLD_START_JSON WARM_MEMORY_JSON [--sizes TARGET_LAMBDA_DIR]

--sizes reads `cargo lambda build --release --arm64` output: TARGET_LAMBDA_DIR/<fn>/bootstrap.
"""

import json
import math
import sys
from pathlib import Path

# AWS Lambda, us-east-1, arm64, public price list as of 2026-11 (first pricing tier).
PRICE_PER_GB_SECOND = 0.0000133334
PRICE_PER_MILLION_REQUESTS = 0.20
MEMORY_GB = 128 / 1024

# Invocations per order on the UBL door's happy path, read off the code (one record per batch,
# the worst case; batches of up to 10 divide the queue reader's share):
#   xml-order-converter  1  the S3 notification
#   queue-reader         3  register, issuance_dte, broadcast_dte commands (Stage::after)
#   state-router         3  the three Orders API calls the queue reader makes
#   email-notifier       1  the stream record that enters issuance_dte
INVOCATIONS_PER_ORDER = {"xml-order-converter": 1, "queue-reader": 3, "state-router": 3, "email-notifier": 1}

# AWS requests per order on the same path (code path in brackets; the throughput driver counts
# the same on the embedded adapters: 3 commands delivered, 5 table writes, 1 email per order).
REQUESTS_PER_ORDER = [
    ("S3", "1 GetObject", "converter reads the uploaded document"),
    ("SQS", "3 SendMessage + the event source's ReceiveMessage/DeleteMessage (≤ 3 each, fewer when batched)",
     "converter queues register; OrderService::queue_next queues issuance_dte and broadcast_dte"),
    ("DynamoDB", "3 GetItem (strongly consistent) + 3 TransactWriteItems + 2 conditional PutItem",
     "register: a conditional create (read only when the key is taken); issuance_dte, broadcast_dte: "
     "get + transaction (order, counter shard, day item); email-notifier: get + claim put + settle put"),
    ("SES", "1 SendEmail", "email-notifier, once per order"),
]

TARGET_COLD_RATIO = 30  # at most a thirtieth of the Python peer
TARGET_FLOOR_RATIO = 1.5  # at most 1.5× a bare lambda_runtime function of the same profile
TARGET_SIZE_MB = 8
TARGET_RSS_MB = 32


def spread(s, unit="ms"):
    return f"{s['median']:.1f} ({s['p10']:.1f}–{s['p90']:.1f}) {unit}" if s else "—"


def main():
    args = sys.argv[1:]
    sizes_dir = None
    if "--sizes" in args:
        i = args.index("--sizes")
        sizes_dir = Path(args[i + 1])
        del args[i : i + 2]
    cold = {r["function"]: r for r in json.loads(Path(args[0]).read_text())}
    warm = {r["function"]: r for r in json.loads(Path(args[1]).read_text())}

    print()
    print("Cold start in ms, median (p10–p90): init (start → first poll) and init + first invocation, "
          "each next to the floor measured in the same runs:")
    print()
    print("| function | init | floor | ÷ floor | ≤ 1.5×? | init + first invocation | floor, same |"
          " Python peer init | Python ÷ Rust | ≤ 1/30? |")
    print("|---|--:|--:|--:|:-:|--:|--:|--:|--:|:-:|")
    for name, c in cold.items():
        floor_ratio = c["rust_ms"]["median"] / c["floor_ms"]["median"]
        ratio = c["python_ms"]["median"] / c["rust_ms"]["median"]
        print(
            f"| {name} | {spread(c['rust_ms'])} | {spread(c['floor_ms'])} | {floor_ratio:.2f}× "
            f"| {'yes' if floor_ratio <= TARGET_FLOOR_RATIO else '**no**'} "
            f"| {spread(c['rust_first_ms'])} | {spread(c['floor_first_ms'])} "
            f"| {spread(c['python_ms'])} | {ratio:.1f}× | {'yes' if ratio >= TARGET_COLD_RATIO else '**no**'} |"
        )

    if sizes_dir:
        bootstraps = sorted(sizes_dir.glob("*/bootstrap"))
        assert bootstraps, f"no */bootstrap under {sizes_dir}"
        print()
        print(f"arm64 `bootstrap` of every function built ({len(bootstraps)}), 10⁶ bytes:")
        print()
        print("| function | arm64 size | ≤ 8 MB? |")
        print("|---|--:|:-:|")
        for bootstrap in bootstraps:
            size_mb = bootstrap.stat().st_size / 1e6
            verdict = "yes" if size_mb <= TARGET_SIZE_MB else "**no**"
            print(f"| {bootstrap.parent.name} | {size_mb:.2f} MB | {verdict} |")

    print()
    print("| function | peak RSS | ≤ 32 MB? | warm duration | answered |")
    print("|---|--:|:-:|--:|--:|")
    for name in cold:
        w = warm[name]
        rss_mb = w["peak_rss_kb"] / 1024 if w["peak_rss_kb"] else None
        print(
            f"| {name} "
            f"| {f'{rss_mb:.1f} MiB' if rss_mb else '—'} "
            f"| {'—' if rss_mb is None else 'yes' if rss_mb <= TARGET_RSS_MB else '**no**'} "
            f"| {spread(w['duration_ms'])} | {w['ok']}/{w['invocations']} |"
        )

    print()
    print("Cost per million orders (UBL door, happy path), 128 MB arm64, us-east-1 prices:")
    print()
    print("| function | invocations per order | billed ms (median, rounded up) | compute $ | requests $ |")
    print("|---|--:|--:|--:|--:|")
    total_compute = total_requests = 0.0
    for name, n in INVOCATIONS_PER_ORDER.items():
        billed_ms = math.ceil(warm[name]["duration_ms"]["median"])
        compute = 1e6 * n * billed_ms / 1000 * MEMORY_GB * PRICE_PER_GB_SECOND
        requests = n * PRICE_PER_MILLION_REQUESTS
        total_compute += compute
        total_requests += requests
        print(f"| {name} | {n} | {billed_ms} | {compute:.2f} | {requests:.2f} |")
    print(f"| **total** | {sum(INVOCATIONS_PER_ORDER.values())} | | **{total_compute:.2f}** "
          f"| **{total_requests:.2f}** |")
    print()
    print(f"Lambda per million orders: **${total_compute + total_requests:.2f}** "
          f"(${PRICE_PER_GB_SECOND}/GB-s, ${PRICE_PER_MILLION_REQUESTS:.2f}/1M requests).")
    print()
    print("| service | requests per order | code path |")
    print("|---|---|---|")
    for service, count, path in REQUESTS_PER_ORDER:
        print(f"| {service} | {count} | {path} |")


if __name__ == "__main__":
    main()
