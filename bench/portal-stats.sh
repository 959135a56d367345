#!/usr/bin/env bash
# The portal's statistics at scale: ORDERS orders over 30 days in the embedded store, the
# statistics from the 30 day items (what the portal reads) against the same statistics from
# every order's history (the peer), median of 5 runs each, the ratio, and a check that both
# agree (docs/PERFORMANCE.md).
#
#   bench/portal-stats.sh [ORDERS]   debug build, 100,000 orders
#   bench/portal-stats.sh --smoke    CI: 2,000 orders; fails only if the two disagree
#
# Outside scripts/test on purpose (which runs only --smoke): timings never fail a build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# --workspace: the features of scripts/test's build, so nothing is rebuilt.
cargo build --quiet --workspace --bin portal-bench
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/portal-bench"
case "${1:-}" in
    --smoke) "$BIN" 2000 ;;
    *) "$BIN" "${1:-100000}" ;;
esac
