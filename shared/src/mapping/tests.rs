//! Loading, validation messages and reloads, on the shipped mappings and the sample orders.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::adapters::embedded::{DirObjectStore, ManualClock};
use crate::error::PortError;
use crate::order::CanonicalOrder;
use crate::ports::ObjectStore;
use crate::test_dir::TestDir;

fn repo(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

fn small_order() -> CanonicalOrder {
    let xml = std::fs::read(repo("events/orders/small-clp.xml")).unwrap();
    crate::ubl::parse_order(&xml, &Default::default()).unwrap()
}

fn shipped(name: &str) -> Mapping {
    let text = std::fs::read_to_string(repo(&format!("config/mappings/{name}.json"))).unwrap();
    Mapping::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn mapped_json(mapping: &Mapping, order: &CanonicalOrder) -> serde_json::Value {
    serde_json::from_str(&mapping.apply(order).unwrap().to_json()).unwrap()
}

#[test]
fn the_business_central_mapping_loads_and_maps_every_line() {
    let order = small_order();
    let body = mapped_json(&shipped("business-central"), &order);
    assert_eq!(body["orderDate"], "2026-03-02");
    assert_eq!(body["customerNumber"], "C00010");
    assert_eq!(body["currencyCode"], "CLP");
    let lines = body["salesOrderLines"].as_array().unwrap();
    assert_eq!(lines.len(), order.lines.len());
    assert_eq!(lines[0]["lineType"], "Item");
    assert_eq!(lines[0]["lineObjectNumber"], "DLA-CAFE-1000");
    assert_eq!(lines[0]["unitOfMeasureCode"], "PCS");
    // Exact decimal text on the wire: numbers with the mapping's scale, never via a float.
    let text = shipped("business-central").apply(&order).unwrap().to_json();
    assert!(text.contains(r#""quantity":4.00000"#), "{text}");
    assert!(text.contains(r#""unitPrice":12990.00"#), "{text}");
}

#[test]
fn the_sap_mapping_concatenates_and_formats_dates() {
    let body = mapped_json(&shipped("sap-b1"), &small_order());
    assert_eq!(body["CardCode"], "C20000");
    assert_eq!(body["Comments"], "PO OC-2026-00417 02/03/2026 Entregar en horario de mañana & llamar antes de llegar");
    assert_eq!(body["DocumentLines"][1]["ItemCode"], "7801234567897");
}

#[test]
fn absent_values_fail_with_the_field_or_fall_back() {
    let mapping = Mapping::from_json(
        r#"{"version": 1, "target": {
            "street": {"path": "order.delivery.region", "optional": true},
            "city": {"path": "order.seller.email", "default": "n/a"},
            "lines": {"each": "order.lines", "fields": {"sku": {"path": "item.sku"}}}
        }}"#,
    )
    .unwrap();
    let mut order = small_order();
    order.lines[1].sku = None;
    let err = mapping.apply(&order).unwrap_err();
    assert_eq!(err.to_string(), "target field `lines[1].sku`: `item.sku` has no value in this order");
    order.lines[1].sku = Some("X".into());
    let body = mapped_json(&mapping, &order);
    assert_eq!(body.get("street"), None);
    assert_eq!(body["city"], "n/a");
}

/// Each broken document and the exact message it is refused with.
#[test]
fn invalid_mappings_are_refused_with_a_message_naming_the_place() {
    let cases = [
        (
            r#"{"version": 1, "target": {"a": {"path": "order.currency"}}"#,
            "not valid JSON: EOF while parsing an object at line 1 column 58",
        ),
        (r#"{"target": {"a": {"path": "order.currency"}}}"#, "(top level): missing required key `version`"),
        (r#"{"version": 2, "target": {"a": {"path": "order.currency"}}}"#, "version: expected 1, found a number"),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.currency"}}, "extra": 1}"#,
            "(top level): unknown key `extra`; expected `version`, `description`, `target`",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.currency", "upper": true}}}"#,
            "target.a: unknown transform or key `upper`; a field takes one source (`path`, `constant`, `concat`), at most one transform (`lookup`, `decimal`, `date`), and `default` or `optional`",
        ),
        (
            r#"{"version": 1, "target": {"a": {"optional": true}}}"#,
            "target.a: missing required key: one of `path`, `constant`, `concat`",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.currency", "constant": "x"}}}"#,
            "target.a: a field takes one source, found `path` and `constant`",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "buyer.name"}}}"#,
            "target.a.path: path `buyer.name`: unknown root `buyer`; a path starts with `order`",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.buyer.nmae"}}}"#,
            "target.a.path: path `order.buyer.nmae`: `order.buyer` has no field `nmae`; it has address, company_id, email, endpoint_id, ids, name",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.lines[].sku"}}}"#,
            "target.a.path: path `order.lines[].sku`: `lines[]`: `[]` is not a path step; map a list with `each`",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "item.sku"}}}"#,
            "target.a.path: path `item.sku`: `item` means the current element of an `each`, and there is none here",
        ),
        (
            r#"{"version": 1, "target": {"a": {"each": "order.buyer", "fields": {"n": {"path": "item.name"}}}}}"#,
            "target.a.each: `order.buyer` is an object, not a list",
        ),
        (r#"{"version": 1, "target": {"a": {"each": "order.lines"}}}"#, "target.a: missing required key `fields`"),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.currency"}, "a": {"constant": "x"}}}"#,
            "target: duplicate target field `a`",
        ),
        (
            r#"{"version": 1, "target": {"l": {"each": "order.lines", "fields": {"q": {"path": "item.quantity", "decimal": {"rounding": "half_up"}}}}}}"#,
            "target.l.fields.q.decimal: missing required key `scale`",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.totals.payable", "decimal": {"scale": 2, "rounding": "bankers"}}}}"#,
            "target.a.decimal.rounding: unknown rounding `bankers`; use one of half_up, half_down, half_even, up, down, ceiling, floor",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.currency", "lookup": {"default": "x"}}}}"#,
            "target.a.lookup: missing required key `table`",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.currency", "lookup": {"table": {"CLP": "x", "CLP": "y"}}}}}"#,
            "target.a.lookup.table: duplicate key `CLP`",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.issue_date", "date": {"output": "[day]/[mnth]"}}}}"#,
            "target.a.date.output: `[day]/[mnth]` is not a date format description: invalid component name `mnth` at byte index 7",
        ),
        (
            // Found by the mapping fuzz target: time 0.3.55's parser trips a debug assertion on it.
            r#"{"version": 1, "target": {"a": {"path": "order.issue_date", "date": {"output": "[day]/[month&/[ye[aMr]   "}}}}"#,
            "target.a.date.output: `[day]/[month&/[ye[aMr]   ` nests a `[` inside a component; a date format needs no nesting",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.issue_date", "date": {"output": "[year]-[month]-[day]T[hour]"}}}}"#,
            "target.a.date.output: `[year]-[month]-[day]T[hour]` asks for more than a date holds (a time of day or an offset)",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.issue_date", "date": {"input": "[month]/[day]", "output": "[year]"}}}}"#,
            "target.a.date.input: `[month]/[day]` cannot read a whole date back; it needs the year, month and day",
        ),
        (
            r#"{"version": 1, "target": {"a": {"constant": 1.5}}}"#,
            "target.a.constant: a fractional JSON number is read as a float and may lose digits; write it as a string, and add a `decimal` transform for a JSON number",
        ),
        (
            r#"{"version": 1, "target": {"a": {"concat": {"parts": []}}}}"#,
            "target.a.concat.parts: no parts to concatenate",
        ),
        (
            r#"{"version": 1, "target": {"a": {"path": "order.note", "optional": true, "default": ""}}}"#,
            "target.a: `default` and `optional` exclude each other",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(doc, expected)| {
            let got = Mapping::from_json(doc).map(|_| ()).map_err(|e| e.to_string());
            (got.as_ref().err().map(String::as_str) != Some(*expected))
                .then(|| format!("{doc}\n  expected: {expected}\n  got:      {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A source whose text the test changes, counting reads.
struct Scripted {
    text: Mutex<Result<String, String>>,
    reads: Mutex<u32>,
}

impl Scripted {
    fn new(text: &str) -> Arc<Self> {
        Arc::new(Self { text: Mutex::new(Ok(text.into())), reads: Mutex::new(0) })
    }

    fn set(&self, text: Result<&str, &str>) {
        *self.text.lock().unwrap() = text.map(str::to_owned).map_err(str::to_owned);
    }

    fn reads(&self) -> u32 {
        *self.reads.lock().unwrap()
    }
}

impl MappingSource for Arc<Scripted> {
    fn describe(&self) -> String {
        "scripted".into()
    }

    async fn fetch(&self) -> Result<String, PortError> {
        *self.reads.lock().unwrap() += 1;
        self.text.lock().unwrap().clone().map_err(|e| PortError::transient("fetch", e))
    }
}

fn constant_mapping(value: &str) -> String {
    format!(r#"{{"version": 1, "target": {{"tag": {{"constant": "{value}"}}}}}}"#)
}

fn tag(mapping: &Mapping) -> String {
    mapping.apply(&small_order()).unwrap().get("tag").and_then(Value::as_str).unwrap().to_owned()
}

const TTL: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_changed_mapping_is_picked_up_once_the_ttl_has_passed() {
    let source = Scripted::new(&constant_mapping("v1"));
    let clock = ManualClock::new(1_000);
    let store = MappingStore::new(source.clone(), TTL, Arc::new(clock.clone()));
    assert_eq!(tag(&store.current().await.unwrap()), "v1");

    source.set(Ok(&constant_mapping("v2")));
    clock.advance(TTL - Duration::from_millis(1));
    assert_eq!(tag(&store.current().await.unwrap()), "v1", "still within the TTL");
    assert_eq!(source.reads(), 1);

    clock.advance(Duration::from_millis(1));
    assert_eq!(tag(&store.current().await.unwrap()), "v2");
    assert_eq!(source.reads(), 2);
}

#[tokio::test]
async fn a_refused_reload_keeps_the_previous_mapping_and_reports_why() {
    let source = Scripted::new(&constant_mapping("v1"));
    let clock = ManualClock::new(0);
    let store = MappingStore::new(source.clone(), TTL, Arc::new(clock.clone()));
    store.current().await.unwrap();

    source.set(Ok(r#"{"version": 1, "target": {"tag": {"constnt": "v2"}}}"#));
    clock.advance(TTL);
    assert_eq!(tag(&store.current().await.unwrap()), "v1");
    let err = store.last_reload_error().await.unwrap();
    assert!(
        err.to_string()
            .starts_with("the mapping from scripted is refused: target.tag: unknown transform or key `constnt`"),
        "{err}"
    );

    // An unreadable source is no different; the store tries again a TTL later, not per call.
    source.set(Err("throttled"));
    clock.advance(TTL);
    assert_eq!(tag(&store.current().await.unwrap()), "v1");
    assert_eq!(
        store.last_reload_error().await.unwrap().to_string(),
        "reading the mapping from scripted: fetch: throttled"
    );
    let reads = source.reads();
    store.current().await.unwrap();
    assert_eq!(source.reads(), reads);

    source.set(Ok(&constant_mapping("v3")));
    clock.advance(TTL);
    assert_eq!(tag(&store.current().await.unwrap()), "v3");
    assert_eq!(store.last_reload_error().await, None);
}

#[tokio::test]
async fn without_a_valid_mapping_every_call_fails_and_tries_again() {
    let source = Scripted::new("{}");
    let store = MappingStore::new(source.clone(), TTL, Arc::new(ManualClock::new(0)));
    let err = store.current().await.unwrap_err();
    assert_eq!(err.to_string(), "the mapping from scripted is refused: (top level): missing required key `version`");
    source.set(Ok(&constant_mapping("v1")));
    assert_eq!(tag(&store.current().await.unwrap()), "v1");
}

#[tokio::test]
async fn mappings_load_from_a_file_or_an_object_named_by_reference() {
    let dir = TestDir::new("mapping");
    let objects = DirObjectStore::new(&*dir);
    objects.put("mappings/m.json", constant_mapping("from-s3").into_bytes(), "application/json").await.unwrap();

    let s3: MappingRef = "s3://config-bucket/mappings/m.json".parse().unwrap();
    let mut opened = None;
    let source = ConfiguredSource::new(&s3, |bucket| {
        opened = Some(bucket.to_owned());
        objects.clone()
    });
    assert_eq!(opened.as_deref(), Some("config-bucket"));
    let store = MappingStore::new(source, TTL, Arc::new(ManualClock::new(0)));
    assert_eq!(tag(&store.current().await.unwrap()), "from-s3");

    let file: MappingRef = format!("file:{}", dir.join("mappings/m.json").display()).parse().unwrap();
    let source = ConfiguredSource::new(&file, |_| -> DirObjectStore { unreachable!("a file needs no bucket") });
    assert_eq!(tag(&MappingStore::new(source, TTL, Arc::new(ManualClock::new(0))).current().await.unwrap()), "from-s3");

    let missing = MappingStore::new(FileSource::new(dir.join("nope.json")), TTL, Arc::new(ManualClock::new(0)));
    assert!(missing.current().await.unwrap_err().to_string().starts_with("reading the mapping from file "));

    for bad in ["ssm:/x", "s3://bucket", "s3:///key", "file:", "config/m.json"] {
        assert!(bad.parse::<MappingRef>().is_err(), "{bad}");
    }
}
