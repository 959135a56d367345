//! The JSON Schema in `schema/` describes exactly what the canonical order serialises to.

use std::fs;
use std::path::{Path, PathBuf};

use jsonschema::Validator;
use orderflow_shared::ubl::{Limits, parse_order};
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn validator() -> Validator {
    let text = fs::read_to_string(repo().join("schema/canonical-order.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::meta::validate(&schema).expect("the schema itself is valid draft 2020-12");
    jsonschema::validator_for(&schema).unwrap()
}

fn sample_json(name: &str) -> Value {
    let xml = fs::read(repo().join("events/orders").join(name)).unwrap();
    let order = parse_order(&xml, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_slice(&order.to_json()).unwrap()
}

#[test]
fn every_valid_sample_matches_the_schema() {
    let validator = validator();
    let mut checked = 0;
    for entry in fs::read_dir(repo().join("events/orders")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "xml") {
            let name = path.file_name().unwrap().to_str().unwrap();
            let instance = sample_json(name);
            let errors: Vec<String> = validator.iter_errors(&instance).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{name}: {errors:?}");
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} samples found");
}

#[test]
fn floats_extra_fields_and_unknown_origins_are_refused() {
    let validator = validator();
    let good = sample_json("small-clp.xml");
    assert!(validator.is_valid(&good));
    type Breakage = (&'static str, fn(&mut Value));
    let broken: [Breakage; 7] = [
        ("float payable", |o| o["totals"]["payable"] = json!(103054.0)),
        ("float quantity", |o| o["lines"][0]["quantity"] = json!(4.5)),
        ("decimal with exponent", |o| o["lines"][0]["line_total"] = json!("5.196e4")),
        ("extra top-level field", |o| o["status"] = json!("new")),
        ("extra party field", |o| o["buyer"]["phone"] = json!("+56 2 2345 6789")),
        ("unknown origin", |o| o["origin"] = json!("email")),
        ("line without unit", |o| _ = o["lines"][0].as_object_mut().unwrap().remove("unit")),
    ];
    for (what, breaks) in broken {
        let mut order = good.clone();
        breaks(&mut order);
        assert!(!validator.is_valid(&order), "{what} should fail validation");
    }
}

/// The model of `POST /orders/queue` (API Gateway's request validator, and `orderflow serve`'s),
/// generated from the schema by scripts/api-model, takes every valid sample too.
#[test]
fn the_queue_routes_draft_4_model_accepts_every_valid_sample() {
    let text = fs::read_to_string(repo().join("schema/canonical-order.draft4.json")).unwrap();
    let model = jsonschema::draft4::new(&serde_json::from_str::<Value>(&text).unwrap()).unwrap();
    let mut samples: Vec<(String, Value)> = fs::read_dir(repo().join("events/orders"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            let order = sample_json(&name);
            (name, order)
        })
        .collect();
    let event: Value =
        serde_json::from_str(&fs::read_to_string(repo().join("events/state-router-post-order.json")).unwrap()).unwrap();
    samples.push(("state-router-post-order".into(), serde_json::from_str(event["body"].as_str().unwrap()).unwrap()));
    assert!(samples.len() >= 5, "only {} samples found", samples.len());
    for (name, order) in &samples {
        let errors: Vec<String> = model.iter_errors(order).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}
