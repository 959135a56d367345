#!/usr/bin/env python3
"""Prints the conversion benchmark table (Markdown) from one run's results: criterion's raw
samples for orderflow and the tokenizer, and the JSON the two peers printed.

    report.py CRITERION_DIR PYTHON_JSON NODE_JSON [ROUNDS_DIR]

Every figure comes from per-iteration samples summarised with one rule (median, lower nearest
rank p10/p90), so the four contestants are comparable. ROUNDS_DIR holds the interleaved rounds
(round-N-{rust,python,node}.json): there every ratio is taken within one round, and the
converter's share of the tokenizer pair by pair. Targets are reported, never enforced: a
timing must not fail a build.
"""

import json
import math
import sys
from pathlib import Path

SIZES = ["small", "medium", "large"]
PEER_TARGET = 20.0  # orderflow at least 20× each peer
TOKENIZER_TARGET = 0.50  # orderflow at least 50 % of quick-xml's bare tokenizer (issue 21)


def lower_rank(samples: list[float], q: float) -> float:
    """The q-quantile by the lower nearest rank, the same rule in every script of the benchmark."""
    s = sorted(samples)
    return s[math.floor(q * (len(s) - 1))]


def summary(size: int, samples: list[float]) -> dict:
    return {"bytes": size, **{key: lower_rank(samples, q) for key, q in (("median_ns", 0.5), ("p10_ns", 0.1), ("p90_ns", 0.9))}}


def criterion(dir: Path, function: str, size: int, size_class: str) -> dict:
    """criterion's sample.json holds each sample's iteration count and total time (ns)."""
    raw = json.loads((dir / function / size_class / "new" / "sample.json").read_text())
    return summary(size, [t / n for t, n in zip(raw["times"], raw["iters"])])


def mb_s(r: dict, key: str = "median_ns") -> float:
    return r["bytes"] / r[key] * 1e3


def cell(r: dict) -> str:
    # A slower sample (p90 time) is a lower throughput, so the range reads p90 → p10.
    return f"{mb_s(r):,.1f} ({mb_s(r, 'p90_ns'):,.1f}–{mb_s(r, 'p10_ns'):,.1f})"


def spread(xs: list[float], fmt: str) -> str:
    """The median of the rounds and their range."""
    return f"{fmt.format(lower_rank(xs, 0.5))} ({fmt.format(min(xs))}–{fmt.format(max(xs))})"


def rounds_table(dir: Path) -> None:
    """Per size, the median of the rounds' ratios and their range; a round meets the targets
    when all three of its ratios do."""
    rounds = []
    for rust in sorted(dir.glob("round-*-rust.json"), key=lambda p: int(p.name.split("-")[1])):
        n = rust.name.split("-")[1]
        rounds.append([json.loads((dir / f"round-{n}-{who}.json").read_text())["results"] for who in ("rust", "python", "node")])
    if not rounds:
        raise SystemExit(f"no rounds in {dir}")
    print()
    print(f"Interleaved rounds ({len(rounds)}): in each, the converter and the tokenizer alternate batch by batch, then the")
    print("peers run; each ratio is taken within its round. Median of the rounds (lowest–highest):")
    print()
    print("| size | % of tokenizer (pairs) | ÷ Python | ÷ Node | rounds meeting all three |")
    print("|---|--:|--:|--:|--:|")
    for size_class in SIZES:
        share, vs_py, vs_js = [], [], []
        for rust, py, js in rounds:
            r = rust[size_class]
            share.append(r["share_median"])
            vs_py.append(py[size_class]["median_ns"] / r["convert_median_ns"])
            vs_js.append(js[size_class]["median_ns"] / r["convert_median_ns"])
        met = sum(1 for s, p, j in zip(share, vs_py, vs_js) if s >= TOKENIZER_TARGET and p >= PEER_TARGET and j >= PEER_TARGET)
        print(f"| {size_class} | {spread(share, '{:.1%}')} | {spread(vs_py, '{:.1f}×')} | {spread(vs_js, '{:.1f}×')} | {met} of {len(rounds)} |")


def main() -> None:
    crit_dir, python_json, node_json = map(Path, sys.argv[1:4])
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
    if len(sys.argv) > 4:
        rounds_table(Path(sys.argv[4]))


if __name__ == "__main__":
    main()
