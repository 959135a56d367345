#!/usr/bin/env bash
# Conversion benchmark, every figure in one run on one corpus:
#
#   bench/conversion.sh           full run, ~5 min after the release build → docs/PERFORMANCE.md
#   bench/conversion.sh --smoke   CI: the debug build in target/ (no release build), ~15 s;
#                                 proves everything builds and runs, its figures mean nothing
#
#   1. corpus      bench/gen-corpus.py → bench/corpus/{small,medium,large}.xml
#   2. peers       pinned xmltodict in bench/.venv-peers, pinned fast-xml-parser in
#                  bench/peers/node/node_modules; (re)installed when missing or the pin changed
#   3. criterion   orderflow convert + quick-xml tokenizer, release build in target-bench/
#                  (never target/: that debug build is shared, and the machine has 2 cores)
#   4. peers       Python, then Node, one after the other so nothing competes for the cores
#   5. rounds      ROUNDS times: the converter and the tokenizer in alternating batches
#                  (conversion-pairs), then Python, then Node, each briefly: every ratio is also
#                  taken within a round, so a machine whose speed drifts over minutes moves all
#                  contestants alike
#   6. table       bench/report.py; also saved to target-bench/conversion/table.md
#
# Outside scripts/test on purpose (which runs only --smoke): timings depend on the machine and
# never fail a build.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
VENV="$BENCH/.venv-peers"
NODE_DIR="$BENCH/peers/node"

case "${1:-}" in
    --smoke)
        export CARGO_TARGET_DIR="$ROOT/target"
        PROFILE=dev BIN_DIR="$CARGO_TARGET_DIR/debug"
        CRITERION_ARGS=(--warm-up-time 0.1 --measurement-time 0.2 --sample-size 10)
        PEER_ARGS=(--warm-up 0.05 --measure 0.2)
        ROUNDS=1 ROUND_ARGS=(--warm-up 0.05 --measure 0.1)
        HEADER="Smoke run: too short to measure anything, these figures only prove it all runs."
        ;;
    "")
        export CARGO_TARGET_DIR="$ROOT/target-bench"
        PROFILE=bench BIN_DIR="$CARGO_TARGET_DIR/release"
        CRITERION_ARGS=(--warm-up-time 3 --measurement-time 10)
        PEER_ARGS=(--warm-up 3 --measure 10)
        ROUNDS=5 ROUND_ARGS=(--warm-up 0.5 --measure 1)
        HEADER="Conversion benchmark."
        ;;
    *)
        echo "usage: bench/conversion.sh [--smoke]" >&2
        exit 2
        ;;
esac

OUT="$CARGO_TARGET_DIR/conversion"

python3 "$BENCH/gen-corpus.py" "$BENCH/corpus"
CORPUS=("$BENCH"/corpus/{small,medium,large}.xml)

# shellcheck source=bench/peers/install.sh
source "$BENCH/peers/install.sh"
install_python_peers "$VENV" "$BENCH/peers/python/requirements.txt"
install_node_peers "$NODE_DIR"

# Stale samples from an earlier run must not reach the table.
rm -rf "$CARGO_TARGET_DIR/criterion/conversion" "$OUT"
mkdir -p "$OUT"
cd "$ROOT"
# --workspace: the features `cargo test --workspace` resolved, so the smoke run rebuilds nothing.
cargo bench --profile "$PROFILE" --workspace --bench convert -- --noplot "${CRITERION_ARGS[@]}"
cargo build --profile "$PROFILE" --workspace --bin conversion-pairs --bin conversion-loop
PAIRS="$BIN_DIR/conversion-pairs"
# The loop that profilers run (docs/PERFORMANCE.md): once per contestant and file, so every run
# proves it still works; its figures are not the benchmark's.
for file in "${CORPUS[@]}"; do
    for contestant in convert tokenize; do
        "$BIN_DIR/conversion-loop" "$contestant" "$file" 1 >>"$OUT/loop.jsonl"
    done
done

# peers PREFIX TIMING_ARGS...: the Python then the Node peer, into $OUT/PREFIX{python,node}.json.
peers() {
    local prefix="$1"
    shift
    "$VENV/bin/python" "$BENCH/peers/python/convert.py" "$@" "${CORPUS[@]}" >"$OUT/${prefix}python.json"
    node "$NODE_DIR/convert.mjs" "$@" "${CORPUS[@]}" >"$OUT/${prefix}node.json"
}

echo "Peers…"
peers "" "${PEER_ARGS[@]}"

for ((round = 1; round <= ROUNDS; round++)); do
    echo "Round $round of $ROUNDS…"
    "$PAIRS" "${ROUND_ARGS[@]}" "${CORPUS[@]}" >"$OUT/round-$round-rust.json"
    peers "round-$round-" "${ROUND_ARGS[@]}"
done

{
    # The load average tells whether something else shared the cores during the run.
    cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "$HEADER $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $cpu," \
        "load average $(cut -d' ' -f1-3 /proc/loadavg), $(rustc --version)."
    python3 "$BENCH/report.py" "$CARGO_TARGET_DIR/criterion/conversion" \
        "$OUT/python.json" "$OUT/node.json" "$OUT"
} | tee "$OUT/table.md"
