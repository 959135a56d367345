#!/usr/bin/env python3
"""Python peer of the conversion benchmark: xmltodict + json.dumps, the usual Python Lambda way
to turn an XML order into JSON. Prints one JSON object with the timings of each file.

    convert.py --warm-up SECONDS --measure SECONDS FILE...

Timing mirrors criterion: after the warm-up, iterations run in batches of at least 1 ms (so the
clock's cost stays negligible on small files) and each batch gives one per-iteration sample.
"""

import argparse
import json
import math
import platform
import time
from importlib.metadata import version
from pathlib import Path

import xmltodict

BATCH_NS = 1_000_000


def convert(xml: bytes) -> str:
    # Bytes go straight to expat, which decodes UTF-8 itself, as the other contestants do.
    return json.dumps(xmltodict.parse(xml))


def measure(xml: bytes, warm_up_s: float, measure_s: float) -> list[float]:
    runs, start = 0, time.perf_counter_ns()
    while runs == 0 or time.perf_counter_ns() - start < warm_up_s * 1e9:
        convert(xml)
        runs += 1
    batch = max(1, math.ceil(BATCH_NS / ((time.perf_counter_ns() - start) / runs)))
    samples, start = [], time.perf_counter_ns()
    while len(samples) < 10 or time.perf_counter_ns() - start < measure_s * 1e9:
        t0 = time.perf_counter_ns()
        for _ in range(batch):
            convert(xml)
        samples.append((time.perf_counter_ns() - t0) / batch)
    return samples


def summary(size: int, samples: list[float]) -> dict:
    s = sorted(samples)

    def pct(q: float) -> float:
        # Lower nearest rank, the same rule in every script of the benchmark.
        return s[math.floor(q * (len(s) - 1))]

    return {
        "bytes": size,
        "samples": len(s),
        "median_ns": pct(0.5),
        "p10_ns": pct(0.1),
        "p90_ns": pct(0.9),
        "median_mb_s": size / pct(0.5) * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm-up", type=float, required=True)
    parser.add_argument("--measure", type=float, required=True)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    results = {}
    for path in args.files:
        xml = path.read_bytes()
        results[path.stem] = summary(len(xml), measure(xml, args.warm_up, args.measure))
    peer = f"Python {platform.python_version()}, xmltodict {version('xmltodict')}"
    print(json.dumps({"peer": peer, "results": results}))


if __name__ == "__main__":
    main()
