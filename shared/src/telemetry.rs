//! Logs and metrics.
//!
//! Logs go through `lambda_runtime::tracing`'s subscriber, in the JSON log format the template
//! sets. Metrics are CloudWatch Embedded Metric Format (EMF) lines on stdout: no API call, no
//! extra latency, and CloudWatch extracts them from the log stream.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_runtime::tracing::subscriber;
use lambda_runtime::tracing::subscriber::filter::LevelFilter;
use serde::{Serialize, Serializer};

use crate::config::EnvReader;

pub const NAMESPACE: &str = "orderflow";
/// The one dimension of every metric: the member of each line that names the function (the
/// dashboard in template.yaml plots by it).
pub const DIMENSION: &str = "Function";

static EMF_ON_STDOUT: AtomicBool = AtomicBool::new(true);

/// For the CLI, whose stdout is for people: metrics only mean something inside Lambda.
pub fn silence_metrics() {
    EMF_ON_STDOUT.store(false, Ordering::Relaxed);
}

/// Starts JSON-or-text logging as the Lambda environment asks (`AWS_LAMBDA_LOG_FORMAT`), at the
/// level of `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO. Functions call it through
/// [`crate::startup::init`].
///
/// What `lambda_runtime::tracing::init_default_subscriber` does, with a level where it has an
/// `EnvFilter`: Lambda's logging controls only ever set a level, and the filter's per-module
/// directives link a regex engine into every function (0.27–0.29 MB of each arm64 bootstrap,
/// docs/PERFORMANCE.md).
pub fn init() {
    let env = EnvReader::process();
    let setting = env.optional("AWS_LAMBDA_LOG_LEVEL").or_else(|| env.optional("RUST_LOG"));
    let logs = subscriber::fmt().with_target(false).without_time().with_max_level(log_level(setting.as_deref()));
    if env.or("AWS_LAMBDA_LOG_FORMAT", "").eq_ignore_ascii_case("json") { logs.json().init() } else { logs.init() }
}

/// The level a log setting names. Lambda's levels are TRACE, DEBUG, INFO, WARN, ERROR and FATAL;
/// tracing has no FATAL, so it logs errors. Anything else (a `RUST_LOG` with per-module
/// directives, a typo) logs at INFO rather than failing the cold start.
fn log_level(setting: Option<&str>) -> LevelFilter {
    match setting {
        Some(fatal) if fatal.eq_ignore_ascii_case("fatal") => LevelFilter::ERROR,
        Some(level) => level.parse().unwrap_or(LevelFilter::INFO),
        None => LevelFilter::INFO,
    }
}

/// One EMF document: counters for one function, flushed as a single log line.
#[derive(Debug)]
pub struct Metrics {
    function: &'static str,
    values: Vec<(&'static str, f64)>,
}

impl Metrics {
    pub fn new(function: &'static str) -> Self {
        Self { function, values: Vec::new() }
    }

    /// Adds to a counter (repeated names are summed, so callers need not pre-aggregate).
    pub fn count(&mut self, name: &'static str, n: u64) -> &mut Self {
        match self.values.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => *v += n as f64,
            None => self.values.push((name, n as f64)),
        }
        self
    }

    /// The EMF JSON line, or `None` when nothing was counted.
    pub fn render(&self, timestamp_ms: u128) -> Option<String> {
        if self.values.is_empty() {
            return None;
        }
        let document = Document {
            aws: Metadata {
                timestamp: timestamp_ms as u64,
                cloud_watch_metrics: [Directive {
                    namespace: NAMESPACE,
                    dimensions: [[DIMENSION]],
                    metrics: Definitions(&self.values),
                }],
            },
            function: self.function,
            values: Values(&self.values),
        };
        Some(serde_json::to_string(&document).expect("an EMF document always serialises"))
    }

    /// Writes the line to stdout, where the Lambda log agent picks EMF up.
    pub fn flush(&mut self) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
        if let Some(line) = self.render(now).filter(|_| EMF_ON_STDOUT.load(Ordering::Relaxed)) {
            println!("{line}");
        }
        self.values.clear();
    }
}

/// One EMF line, written straight from the counters: the handlers flush one per invocation,
/// and building it as a `serde_json::Value` tree cost a fifth of the flush.
#[derive(Serialize)]
struct Document<'m> {
    #[serde(rename = "_aws")]
    aws: Metadata<'m>,
    /// Under the name of [`DIMENSION`].
    #[serde(rename = "Function")]
    function: &'m str,
    #[serde(flatten)]
    values: Values<'m>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata<'m> {
    timestamp: u64,
    cloud_watch_metrics: [Directive<'m>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive<'m> {
    namespace: &'static str,
    dimensions: [[&'static str; 1]; 1],
    metrics: Definitions<'m>,
}

/// `[{"Name": …, "Unit": "Count"}, …]`: every counter is a count.
struct Definitions<'m>(&'m [(&'static str, f64)]);

impl Serialize for Definitions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Definition {
            name: &'static str,
            unit: &'static str,
        }
        s.collect_seq(self.0.iter().map(|&(name, _)| Definition { name, unit: "Count" }))
    }
}

/// The counters as top-level members, where the definitions point.
struct Values<'m>(&'m [(&'static str, f64)]);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn log_level_follows_lambdas_setting_and_falls_back_to_info() {
        assert_eq!(log_level(Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(log_level(Some("warn")), LevelFilter::WARN);
        assert_eq!(log_level(Some("FATAL")), LevelFilter::ERROR);
        assert_eq!(log_level(Some("orderflow=debug,hyper=warn")), LevelFilter::INFO);
        assert_eq!(log_level(None), LevelFilter::INFO);
    }

    #[test]
    fn emf_line_declares_every_counted_metric_and_sums_repeats() {
        let mut m = Metrics::new("xml-order-converter");
        m.count("OrdersConverted", 2).count("ConversionFailures", 1).count("OrdersConverted", 1);
        let doc: Value = serde_json::from_str(&m.render(1_700_000_000_000).unwrap()).unwrap();
        assert_eq!(doc["OrdersConverted"], 3.0);
        assert_eq!(doc["ConversionFailures"], 1.0);
        assert_eq!(doc[DIMENSION], "xml-order-converter");
        let declared = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], NAMESPACE);
        assert_eq!(declared["Dimensions"], json!([[DIMENSION]]));
        assert_eq!(
            declared["Metrics"],
            json!([{"Name": "OrdersConverted", "Unit": "Count"}, {"Name": "ConversionFailures", "Unit": "Count"}])
        );
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000u64);
    }

    #[test]
    fn nothing_counted_renders_nothing() {
        assert!(Metrics::new("f").render(0).is_none());
    }
}
