//! Conversion throughput per corpus size: orderflow's converter (UBL parse + canonical JSON),
//! and quick-xml reading the same bytes as bare events, the ceiling any quick-xml-based
//! converter can reach. bench/conversion.sh generates the corpus, runs this and the peers, and
//! reads criterion's sample.json files for its table.

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use orderflow_bench::conversion::{convert, tokenize};

const SIZES: [&str; 3] = ["small", "medium", "large"];

fn corpus(size: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("corpus/{size}.xml"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (bench/gen-corpus.py writes the corpus)", path.display()))
}

fn conversion(c: &mut Criterion) {
    // As the converter function's `main` does, so the converter runs on the same heap.
    assert!(orderflow_shared::heap::keep_freed_memory(), "the C library did not take the functions' heap thresholds");
    let mut group = c.benchmark_group("conversion");
    for size in SIZES {
        let xml = corpus(size);
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_with_input(BenchmarkId::new("orderflow_convert", size), &xml, |b, xml| {
            b.iter(|| convert(black_box(xml)))
        });
        group.bench_with_input(BenchmarkId::new("quickxml_tokenize", size), &xml, |b, xml| {
            b.iter(|| tokenize(black_box(xml)))
        });
    }
    group.finish();
}

criterion_group!(benches, conversion);
criterion_main!(benches);
