#!/usr/bin/env bash
# The order poller's time per page of 250 orders (bench/benches/poll.rs), against the local
# Shopify and WooCommerce doubles over loopback HTTP:
#
#   bench/poll.sh           full run, release-like build in target-bench/, ~1 min after the build
#   bench/poll.sh --smoke   CI: the debug build in target/, a few seconds; proves it builds and runs
#
# Criterion prints each figure; `shopify_double_answers_the_list_query` is the double's own share
# of a Shopify page, so the poller's time is the page's time less that. Timings depend on the
# machine and never fail a build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
    --smoke)
        export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
        PROFILE=dev
        ARGS=(--warm-up-time 0.1 --measurement-time 0.2 --sample-size 10)
        ;;
    "")
        export CARGO_TARGET_DIR="$ROOT/target-bench"
        PROFILE=bench
        ARGS=(--warm-up-time 2 --measurement-time 10 --sample-size 10)
        ;;
    *)
        echo "usage: bench/poll.sh [--smoke]" >&2
        exit 2
        ;;
esac
cd "$ROOT"
# --workspace: the features `cargo test --workspace` resolved, so the smoke run rebuilds nothing.
cargo bench --profile "$PROFILE" --workspace --bench poll -- --noplot "${ARGS[@]}"
