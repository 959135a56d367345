#!/usr/bin/env bash
# End-to-end local throughput: ORDERS distinct UBL orders through the embedded pipeline
# (S3 upload → converter → orders.fifo → queue reader → state router with the simulated DTE
# provider → email notifier), in one process, wall clock, on however many cores the machine has.
#
#   bench/throughput.sh [ORDERS]    release build in target-bench/, 20,000 orders by default,
#                                   5 runs; prints each run and the median
#   bench/throughput.sh --smoke     CI: the debug build, 50 orders, 1 run; the figure means nothing
#
# The embedded bucket and outbox (files) go to tmpfs (/dev/shm) when the machine has it: they
# stand in for S3 and SES, and on a disk the fsync per object is the disk's figure, not the
# pipeline's. BENCH_WORK_DIR=<dir> puts them elsewhere (docs/PERFORMANCE.md gives both).
#
# Outside scripts/test on purpose (which runs only --smoke): timings depend on the machine and
# never fail a build.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
OUT="$ROOT/target-bench/throughput"
cd "$ROOT"

case "${1:-}" in
    --smoke)
        # --workspace: the features of scripts/test's build, so nothing is rebuilt.
        cargo build --quiet --workspace --bin throughput
        BIN="$ROOT/target/debug/throughput" ORDERS=50 RUNS=1
        ;;
    *)
        CARGO_TARGET_DIR="$ROOT/target-bench" cargo build --profile bench --workspace --bin throughput
        BIN="$ROOT/target-bench/release/throughput" ORDERS="${1:-20000}" RUNS=5
        ;;
esac

rm -rf "$OUT"
mkdir -p "$OUT"
if [[ -n "${BENCH_WORK_DIR:-}" ]]; then
    WORK="$BENCH_WORK_DIR"
elif [[ -d /dev/shm && -w /dev/shm ]]; then
    WORK="/dev/shm/orderflow-throughput-$$"
    trap 'rm -rf "$WORK" "$WORK.stdout"' EXIT
else
    WORK="$OUT/work"
fi
for ((run = 1; run <= RUNS; run++)); do
    # The handlers print their CloudWatch metric lines (EMF) on stdout, as in Lambda; the
    # result is the last line. Stdout goes to a file beside the work dir, as Lambda's log
    # agent collects it: a pipe to `tail` woke a reader process on these cores for every line.
    "$BIN" "$ORDERS" "$WORK" >"$WORK.stdout"
    tail -n 1 "$WORK.stdout" | tee -a "$OUT/runs.jsonl"
    rm -f "$WORK.stdout"
done
python3 - "$OUT/runs.jsonl" "$WORK" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
rates = sorted(r["orders_per_second"] for r in runs)
print(f"{runs[0]['orders']} orders, {len(runs)} runs, work dir {sys.argv[2]}: median {statistics.median(rates):,.0f} orders/s "
      f"(min {rates[0]:,.0f}, max {rates[-1]:,.0f}); per order: {runs[0]['per_order']}")
PY
