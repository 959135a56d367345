#!/usr/bin/env python3
"""Prints the conversion benchmark table (Markdown) from one run's results: criterion's raw
samples for orderflow and the tokenizer, and the JSON the two peers printed.

    report.py CRITERION_DIR PYTHON_JSON NODE_JSON

Every figure comes from per-iteration samples summarised with one rule (median, lower nearest
rank p10/p90), so the four contestants are comparable. Targets are reported, never enforced:
a timing must not fail a build.
"""

import json
import math
import sys
from pathlib import Path

SIZES = ["small", "medium", "large"]
PEER_TARGET = 20.0  # orderflow at least 20× each peer
TOKENIZER_TARGET = 0.40  # orderflow at least 40 % of quick-xml's bare tokenizer


def summary(size: int, samples: list[float]) -> dict:
    s = sorted(samples)

    def pct(q: float) -> float:
        # Lower nearest rank, the same rule in every script of the benchmark.
        return s[math.floor(q * (len(s) - 1))]

    return {"bytes": size, "median_ns": pct(0.5), "p10_ns": pct(0.1), "p90_ns": pct(0.9)}


def criterion(dir: Path, function: str, size: int, size_class: str) -> dict:
    """criterion's sample.json holds each sample's iteration count and total time (ns)."""
    raw = json.loads((dir / function / size_class / "new" / "sample.json").read_text())
    return summary(size, [t / n for t, n in zip(raw["times"], raw["iters"])])


def mb_s(r: dict, key: str = "median_ns") -> float:
    return r["bytes"] / r[key] * 1e3


def cell(r: dict) -> str:
    # A slower sample (p90 time) is a lower throughput, so the range reads p90 → p10.
    return f"{mb_s(r):,.1f} ({mb_s(r, 'p90_ns'):,.1f}–{mb_s(r, 'p10_ns'):,.1f})"


def main() -> None:
    crit_dir, python_json, node_json = map(Path, sys.argv[1:])
    python = json.loads(python_json.read_text())
    node = json.loads(node_json.read_text())
    rows, misses = [], []
    for size_class in SIZES:
        size = python["results"][size_class]["bytes"]
        ours = criterion(crit_dir, "orderflow_convert", size, size_class)
        tok = criterion(crit_dir, "quickxml_tokenize", size, size_class)
        py, js = python["results"][size_class], node["results"][size_class]
        vs_py, vs_js = mb_s(ours) / mb_s(py), mb_s(ours) / mb_s(js)
        share = mb_s(ours) / mb_s(tok)
        checks = [
            (vs_py >= PEER_TARGET, f"{vs_py:.1f}× Python (target {PEER_TARGET:.0f}×)"),
            (vs_js >= PEER_TARGET, f"{vs_js:.1f}× Node (target {PEER_TARGET:.0f}×)"),
            (share >= TOKENIZER_TARGET, f"{share:.1%} of the tokenizer (target {TOKENIZER_TARGET:.0%})"),
        ]
        misses += [f"{size_class}: {what}" for met, what in checks if not met]
        rows.append(
            f"| {size_class} | {size:,} | {cell(ours)} | {cell(tok)} | {cell(py)} | {cell(js)} "
            f"| {vs_py:.1f}× | {vs_js:.1f}× | {share:.1%} |"
        )
    print("MB/s = 10⁶ bytes per second of wall time, median (p10–p90 of the samples).")
    print(f"Python peer: {python['peer']}. Node peer: {node['peer']}.")
    print()
    print(
        "| size | bytes | orderflow convert | quick-xml tokenizer | Python xmltodict "
        "| Node fast-xml-parser | ÷ Python | ÷ Node | % of tokenizer |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    print("\n".join(rows))
    print()
    print("Targets missed: " + "; ".join(misses) if misses else "All targets met.")


if __name__ == "__main__":
    main()
