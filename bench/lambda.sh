#!/usr/bin/env bash
# Lambda benchmarks, every figure in one run: cold start against a Python peer, peak memory and
# warm duration over repeated invocations, arm64 release size, and the cost per million orders.
#
#   bench/lambda.sh           full run → docs/PERFORMANCE.md; builds release binaries first
#   bench/lambda.sh --smoke   CI: debug binaries, 1 cold start and 5 invocations each, no arm64
#                             build; proves the harness runs, its figures mean nothing
#
#   1. peers       pinned boto3 in bench/.venv-peers (bench/peers/python/requirements.txt)
#   2. build       x86_64 release binaries into target-bench/ (the machine that measures);
#                  arm64 with `cargo lambda build --release --arm64` into target/lambda/ for the
#                  sizes of every function; the measured binaries then copied to
#                  target-bench/lambda/bin, so each starts from a file written just before
#   3. moto        the one at AWS_ENDPOINT_URL, else one started here; bench/lambda-env.py
#                  creates the tables, queues, bucket and secrets and writes the environment
#   4. cold start  cold-start: process start → first GET …/invocation/next, and → the answer
#                  to the first event, interleaved with the floor (lambda-floor: a bare
#                  lambda_runtime function, same profile) and the Python peer (boto3 import +
#                  the same clients), RUNS times each
#   5. warm        warm-memory: each function's events/ file, INVOCATIONS times; VmHWM, durations
#   6. table       bench/lambda-report.py; also saved to target-bench/lambda/table.md
#
# Outside scripts/test on purpose (which runs only --smoke): timings depend on the machine and
# never fail a build.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
OUT="$ROOT/target-bench/lambda"
VENV="$BENCH/.venv-peers"
# Sizes for every function package (13 bootstraps), not only the ones the harness starts: the
# size target is every function's, and until 2026-12-04 the portal and shop sync went unmeasured.
PACKAGES=()
for f in "$ROOT"/functions/*/Cargo.toml; do PACKAGES+=(-p "$(basename "$(dirname "$f")")"); done
# The functions the harness starts (bench/src/functions.rs).
MEASURED=(xml-order-converter queue-reader state-router error-handler broadcast-retry email-notifier
    webhook-bridge erp-sync-worker)
BINS=()
for b in "${MEASURED[@]}"; do BINS+=(--bin "$b"); done

case "${1:-}" in
    --smoke) RUNS=1 INVOCATIONS=5 HEADER="Smoke run: too short to measure anything, these figures only prove it all runs." ;;
    "") RUNS=20 INVOCATIONS=1000 HEADER="Lambda benchmark." ;;
    *)
        echo "usage: bench/lambda.sh [--smoke]" >&2
        exit 2
        ;;
esac

# shellcheck source=bench/peers/install.sh
source "$BENCH/peers/install.sh"
moto_peer_env "$ROOT" "$VENV"

cd "$ROOT"
rm -rf "$OUT"
mkdir -p "$OUT"
if [[ "${1:-}" == --smoke ]]; then
    # A no-op after scripts/test's cargo-test step, which built these: --workspace resolves the
    # same features as `cargo test --workspace` (a -p selection would rebuild the SDKs).
    cargo build --quiet --workspace --bins
    BIN_DIR="$ROOT/target/debug"
    HARNESS="$BIN_DIR"
    SIZES=()
else
    # The bench profile is release unchanged; it reuses what the conversion bench built.
    # --workspace with named binaries: the feature set of the conversion bench and the load
    # run, so the three share one build of the dependencies.
    CARGO_TARGET_DIR="$ROOT/target-bench" cargo build --profile bench --workspace "${BINS[@]}" \
        --bin lambda-floor --bin cold-start --bin warm-memory
    HARNESS="$ROOT/target-bench/release"
    cargo lambda build --release --arm64 "${PACKAGES[@]}"
    SIZES=(--sizes "$ROOT/target/lambda")
    # The measured binaries, the floor's too, each from a file written just now: the same bytes
    # started up to 0.6 ms faster (the queue reader: 0.4–0.6 ms) from a copy made minutes before
    # than from one made hours before (the file's state in the page cache; docs/PERFORMANCE.md,
    # "Sixth session" under cold start), which favoured whichever side of a comparison had been
    # built last.
    BIN_DIR="$OUT/bin"
    mkdir -p "$BIN_DIR"
    for b in "${MEASURED[@]}" lambda-floor; do cp "$HARNESS/$b" "$BIN_DIR/"; done
fi

if [[ -z "${AWS_ENDPOINT_URL:-}" ]]; then
    # shellcheck source=scripts/moto
    source "$ROOT/scripts/moto"
    moto_start
    trap moto_stop EXIT
    export AWS_ENDPOINT_URL="$MOTO_ENDPOINT"
fi
python "$BENCH/lambda-env.py" >"$OUT/env.json"

"$HARNESS/cold-start" "$BIN_DIR" "$OUT/env.json" "$ROOT/events" "$VENV/bin/python" \
    "$BENCH/peers/python/lambda_cold_start.py" "$RUNS" >"$OUT/cold-start.json"
"$HARNESS/warm-memory" "$BIN_DIR" "$OUT/env.json" "$ROOT/events" "$INVOCATIONS" >"$OUT/warm-memory.json"

{
    cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "$HEADER $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $cpu," \
        "load average $(cut -d' ' -f1-3 /proc/loadavg), $(rustc --version)."
    python3 "$BENCH/lambda-report.py" "$OUT/cold-start.json" "$OUT/warm-memory.json" "${SIZES[@]}"
} | tee "$OUT/table.md"
