#!/usr/bin/env bash
# Catalogue sync at scale against the in-process doubles: SKUS items in the Business Central
# double, a full first sync to the Shopify (or WooCommerce) double, an incremental run with
# PERCENT % of the stock levels changed, and a run over an unchanged catalogue. Prints, per
# run, the wall time, ERP and shop calls and the staging items written (docs/PERFORMANCE.md).
#
#   bench/catalog-sync.sh [SKUS] [PERCENT] [shopify|woocommerce]   debug build (the figures in
#                                   docs/PERFORMANCE.md are of it), 50,000 SKUs, 1 %, Shopify
#   bench/catalog-sync.sh --smoke   CI: 200 SKUs; fails only if an unchanged catalogue makes a shop call
#
# Outside scripts/test on purpose (which runs only --smoke): timings never fail a build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# --workspace: the features of scripts/test's build, so nothing is rebuilt.
cargo build --quiet --workspace --bin catalog-bench
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/catalog-bench"
case "${1:-}" in
    --smoke) "$BIN" 200 1 shopify ;;
    *) "$BIN" "${1:-50000}" "${2:-1}" "${3:-shopify}" ;;
esac
