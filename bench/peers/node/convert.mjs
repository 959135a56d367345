// Node peer of the conversion benchmark: fast-xml-parser + JSON.stringify, the usual Node
// Lambda way to turn an XML order into JSON. Prints one JSON object with the timings of each file.
//
//     node convert.mjs --warm-up SECONDS --measure SECONDS FILE...
//
// Timing mirrors criterion: after the warm-up (which also lets V8 optimise), iterations run in
// batches of at least 1 ms and each batch gives one per-iteration sample.

import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { parseArgs } from "node:util";
import { XMLParser } from "fast-xml-parser";

const BATCH_NS = 1_000_000;

// Attributes kept (currencyID, unitCode), as orderflow and xmltodict keep them.
const parser = new XMLParser({ ignoreAttributes: false });

// A Buffer, as S3 hands it over: the UTF-8 decoding is part of the cost, as for the others.
const convert = (xml) => JSON.stringify(parser.parse(xml));

const now = () => Number(process.hrtime.bigint());

function measure(xml, warmUpS, measureS) {
  let runs = 0;
  let start = now();
  while (runs === 0 || now() - start < warmUpS * 1e9) {
    convert(xml);
    runs += 1;
  }
  const batch = Math.max(1, Math.ceil(BATCH_NS / ((now() - start) / runs)));
  const samples = [];
  start = now();
  while (samples.length < 10 || now() - start < measureS * 1e9) {
    const t0 = now();
    for (let i = 0; i < batch; i += 1) convert(xml);
    samples.push((now() - t0) / batch);
  }
  return samples;
}

function summary(size, samples) {
  const s = [...samples].sort((a, b) => a - b);
  // Lower nearest rank, the same rule in every script of the benchmark.
  const pct = (q) => s[Math.floor(q * (s.length - 1))];
  return {
    bytes: size,
    samples: s.length,
    median_ns: pct(0.5),
    p10_ns: pct(0.1),
    p90_ns: pct(0.9),
    median_mb_s: (size / pct(0.5)) * 1e3,
  };
}

const { values, positionals } = parseArgs({
  options: { "warm-up": { type: "string" }, measure: { type: "string" } },
  allowPositionals: true,
});
const results = {};
for (const path of positionals) {
  const xml = readFileSync(path);
  const samples = measure(xml, Number(values["warm-up"]), Number(values.measure));
  results[basename(path, extname(path))] = summary(xml.length, samples);
}
// The package's exports hide its package.json, so it is read from the install folder.
const manifest = new URL("node_modules/fast-xml-parser/package.json", import.meta.url);
const fxp = JSON.parse(readFileSync(manifest)).version;
const peer = `Node ${process.versions.node}, fast-xml-parser ${fxp}`;
console.log(JSON.stringify({ peer, results }));
