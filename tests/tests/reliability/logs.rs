//! Every log line of the test binary, captured: a global `tracing` subscriber that renders
//! each event and span, with all its fields, into one buffer that tests scan for leaks.
//!
//! Captured at DEBUG, the level `samconfig.toml` gives the dev stage (qa and prod use INFO).
//! TRACE is left out: at TRACE the AWS SDK logs whole SQS responses, message bodies included,
//! so no stage may run at TRACE (the template still allows it; see docs/RELIABILITY.md).

use std::fmt::{Debug, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use aho_corasick::AhoCorasick;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber, span};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The most verbose level the template's LogLevel allows (checked below against template.yaml).
const CAPTURED: Level = Level::DEBUG;

struct Capture {
    next_span: AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

fn push(line: String) {
    LINES.lock().unwrap_or_else(|p| p.into_inner()).push(line);
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= CAPTURED
    }

    fn new_span(&self, attributes: &span::Attributes<'_>) -> span::Id {
        let mut line = format!("span {}", attributes.metadata().name());
        attributes.record(&mut Fields(&mut line));
        push(line);
        span::Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &span::Id, values: &span::Record<'_>) {
        let mut line = "span record".to_owned();
        values.record(&mut Fields(&mut line));
        push(line);
    }

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = format!("{} {}", event.metadata().level(), event.metadata().target());
        event.record(&mut Fields(&mut line));
        push(line);
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// Starts capturing, once per test binary; every test that feeds the scan calls it first.
pub fn capture() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tracing::subscriber::set_global_default(Capture { next_span: AtomicU64::new(0) })
            .expect("no other global subscriber in this test binary");
    });
}

/// The captured lines that contain `needle`.
pub fn lines_containing(needle: &str) -> Vec<String> {
    LINES.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|line| line.contains(needle)).cloned().collect()
}

/// Fails with the offending lines when any captured line contains one of `needles`
/// (each `(what, text)`); returns how many lines were scanned.
///
/// One pass over the lines with an automaton of all the needles: a run captures ~10^5 lines
/// and ~10^4 needles, and a `contains` per pair took most of the fault run's minute and a half.
pub fn assert_none_contains(needles: &[(String, String)]) -> usize {
    let lines = LINES.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let needles: Vec<&(String, String)> = needles.iter().filter(|(_, text)| !text.is_empty()).collect();
    let automaton = AhoCorasick::new(needles.iter().map(|(_, text)| text)).expect("an automaton of the needles");
    let needles = &needles;
    let leaks: Vec<String> = lines
        .iter()
        .flat_map(|line| {
            let mut found: Vec<usize> =
                automaton.find_overlapping_iter(line.as_str()).map(|m| m.pattern().as_usize()).collect();
            found.sort_unstable();
            found.dedup();
            found.into_iter().map(move |i| format!("{}: {}", needles[i].0, &line[..line.floor_char_boundary(300)]))
        })
        .take(20)
        .collect();
    assert!(leaks.is_empty(), "log lines leak {} secrets, signatures or bodies:\n{}", leaks.len(), leaks.join("\n"));
    lines.len()
}

#[test]
fn the_scan_catches_a_planted_leak() {
    capture();
    tracing::warn!(body = ?"planted-s3cret-7731", "a careless line");
    let needles = [("planted".to_owned(), "planted-s3cret-7731".to_owned())];
    assert!(std::panic::catch_unwind(|| assert_none_contains(&needles)).is_err());
}

/// The scan sees every line a deployed stage could log: it captures at the most verbose level
/// the template's LogLevel parameter allows.
#[test]
fn the_scan_captures_at_the_most_verbose_level_the_template_allows() {
    let template = std::fs::read_to_string(orderflow_e2e::repo_path("template.yaml")).unwrap();
    let parameter = template.split("\n  LogLevel:\n").nth(1).expect("a LogLevel parameter");
    let allowed = parameter.lines().find_map(|l| l.trim().strip_prefix("AllowedValues: [")).expect("its AllowedValues");
    let levels: Vec<Level> = allowed
        .trim_end_matches(']')
        .split(',')
        .filter_map(|name| match name.trim() {
            "FATAL" => None, // Lambda's level above ERROR; tracing has none
            name => Some(name.parse::<Level>().unwrap_or_else(|_| panic!("{name} is not a level"))),
        })
        .collect();
    assert!(!levels.is_empty(), "the template allows some levels: {allowed}");
    assert_eq!(levels.iter().max().copied(), Some(CAPTURED), "allowed: {allowed}");
}
