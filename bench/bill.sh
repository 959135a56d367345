#!/usr/bin/env bash
# The AWS bill per million orders, for each door (UBL document, webhook): every AWS request an
# order makes on the real adapters, counted against moto through a recording proxy, priced from
# bench/prices.json; next to the same flow with Python functions at the Python peer's warm
# durations, measured here (bench/peers/python/lambda_warm.py) (docs/PERFORMANCE.md, "The bill").
#
#   bench/bill.sh [ORDERS]   debug build, ORDERS orders per door (default 20) after one warm-up
#                            each; the Python peer 50 invocations per function
#   bench/bill.sh --smoke    CI: 1 order per door, 3 peer invocations; proves it runs, asserts
#                            nothing about the figures (the driver does check that each order
#                            reached its email and that no command was refused)
#
# The request counts do not depend on the machine; the peer's durations do (moto on loopback).
# Uses the moto at AWS_ENDPOINT_URL, else starts one. Outside scripts/test on purpose (which
# runs only --smoke).
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
OUT="$ROOT/target/bill"
VENV="$BENCH/.venv-peers"
case "${1:-}" in
    --smoke) ORDERS=1 PEER_RUNS=3 ;;
    "") ORDERS=20 PEER_RUNS=50 ;;
    *) ORDERS="$1" PEER_RUNS=50 ;;
esac

# shellcheck source=bench/peers/install.sh
source "$BENCH/peers/install.sh"
moto_peer_env "$ROOT" "$VENV"

cd "$ROOT"
# --workspace: the features of scripts/test's build, so nothing is rebuilt.
cargo build --quiet --workspace --bin bill
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/bill"

if [[ -z "${AWS_ENDPOINT_URL:-}" ]]; then
    # shellcheck source=scripts/moto
    source "$ROOT/scripts/moto"
    moto_start
    trap moto_stop EXIT
    export AWS_ENDPOINT_URL="$MOTO_ENDPOINT"
fi
mkdir -p "$OUT"
# The handlers' metric lines go to stdout; the counts go to the file.
"$BIN" "$ORDERS" "$OUT/bill.json" >/dev/null
"$VENV/bin/python" "$BENCH/peers/python/lambda_warm.py" "$PEER_RUNS" "$OUT/python-warm.json"
{
    cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "Bill run $(date -u +%Y-%m-%dT%H:%MZ), $ORDERS orders per door, $(nproc) cores, $cpu," \
        "load average $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    python3 "$BENCH/bill-report.py" "$OUT/bill.json" "$BENCH/prices.json" "$BENCH/bill-durations.json" \
        "$OUT/python-warm.json"
} | tee "$OUT/table.md"
