//! The lifecycle of app versions as operators drive it: promote, migrate (a deterministic
//! percentage, revert), deprecate, environment values; definitions refused naming the place;
//! the store's conditional save.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use time::macros::date;
use time::{Date, Duration};

use super::bind::check_renders;
use super::*;
use crate::adapters::embedded::MemoryAppStore;
use crate::ports::{AppStore, CHANGED_SINCE_READ};

const TODAY: Date = date!(2026 - 03 - 02);
const KEY: &str = "partner-hooks";

fn v(text: &str) -> Version {
    text.parse().unwrap()
}

/// A webhook app: the seller's name comes from a property and the `region` environment value,
/// so a rendering shows which version's values it used. 2.0.0 requires `tenant`, which 1.x
/// declares as optional.
fn definition(version: &str) -> Value {
    let tenant_required = version.starts_with("2.");
    json!({
        "key": KEY,
        "name": "Partner hooks",
        "version": version,
        "auth": { "mechanism": "hmac_signature",
                  "fields": [{ "name": "webhook_secret", "secret": true }] },
        "properties": [
            { "name": "seller_name", "type": "string", "required": true },
            { "name": "seller_id", "type": "string", "required": true },
            { "name": "tenant", "type": "string", "required": tenant_required }
        ],
        "env": [
            { "name": "region", "default": format!("default-{version}") },
            { "name": "signing_ref", "secret": true }
        ],
        "triggers": { "webhook": { "config": {
            "scheme": { "kind": "standard_webhooks" },
            "secret_ref": "{{secret.webhook_secret}}",
            "seller_name": "{{property.seller_name}} ({{env.region}})",
            "seller_id": { "value": "{{property.seller_id}}" }
        } } }
    })
}

fn publish(registry: &mut Registry, version: &str) {
    let definition = AppDefinition::from_json(&definition(version).to_string()).unwrap();
    let records = registry.publish(definition).unwrap();
    registry.apply(&records);
}

fn connection(id: &str, version: Option<&str>, tenant: bool, production: bool) -> Connection {
    let mut properties =
        BTreeMap::from([("seller_name".to_owned(), json!("Acme")), ("seller_id".to_owned(), json!("76123456-7"))]);
    if tenant {
        properties.insert("tenant".into(), json!("t-1"));
    }
    Connection {
        id: id.to_owned(),
        app: KEY.to_owned(),
        version: version.map(v),
        description: String::new(),
        production,
        properties,
        secrets: BTreeMap::from([("webhook_secret".to_owned(), format!("local:{id}"))]),
        migrated_from: None,
        revision: 0,
    }
}

fn connect(registry: &mut Registry, connection: Connection) {
    let record = registry.connect(connection, TODAY).unwrap();
    registry.apply(&[record]);
}

/// 1.0.0 (the default), 1.1.0 and 2.0.0 published, and `count` connections on 1.0.0.
fn registry_with(count: usize, tenant: bool) -> Registry {
    let mut registry = Registry::default();
    for version in ["1.0.0", "1.1.0", "2.0.0"] {
        publish(&mut registry, version);
    }
    for i in 0..count {
        connect(&mut registry, connection(&format!("client-{i:03}"), None, tenant, false));
    }
    registry
}

fn ids_on(registry: &Registry, version: &str) -> BTreeSet<String> {
    registry.connections_on(KEY, v(version)).map(|c| c.id.clone()).collect()
}

fn seller_name(registry: &Registry, id: &str, today: Date) -> String {
    let bound = registry.bind(&registry.connections[id], today).unwrap();
    bound.webhook.unwrap().seller_name
}

#[test]
fn the_first_version_is_the_default_and_new_connections_are_pinned_to_it() {
    let registry = registry_with(3, true);
    assert_eq!(registry.apps[KEY].default_version, v("1.0.0"));
    assert_eq!(ids_on(&registry, "1.0.0").len(), 3);
}

#[test]
fn promote_changes_the_default_for_new_connections_and_moves_nobody() {
    let mut registry = registry_with(5, true);
    let before = registry.connections.clone();
    let record = registry.promote(KEY, v("2.0.0")).unwrap();
    assert!(matches!(&record, Record::App(a) if a.default_version == v("2.0.0")));
    registry.apply(&[record]);
    assert_eq!(registry.apps[KEY].default_version, v("2.0.0"));
    assert_eq!(registry.connections, before, "no connection moves");
    connect(&mut registry, connection("newcomer", None, true, false));
    assert_eq!(registry.connections["newcomer"].version, Some(v("2.0.0")));
    assert!(registry.promote(KEY, v("9.9.9")).is_err());
}

#[test]
fn a_deprecated_version_cannot_be_promoted() {
    let mut registry = registry_with(1, true);
    registry.apply(&[registry.promote(KEY, v("2.0.0")).unwrap()]);
    let record = registry.deprecate(KEY, v("1.1.0"), TODAY + Duration::days(30), TODAY).unwrap();
    registry.apply(&[record]);
    let err = registry.promote(KEY, v("1.1.0")).unwrap_err();
    assert!(err.to_string().contains("deprecated"), "{err}");
}

#[test]
fn migrate_moves_the_same_deterministic_percentage_each_time() {
    let original = registry_with(200, true);
    let expected: BTreeSet<String> = original.connections.keys().filter(|id| bucket(id) < 10).cloned().collect();

    let mut registry = original.clone();
    let migration = registry.migrate(KEY, v("1.0.0"), v("2.0.0"), 10, false, TODAY).unwrap();
    let moved: BTreeSet<String> = migration.moved.iter().cloned().collect();
    assert_eq!(moved, expected);
    assert!((10..=30).contains(&moved.len()), "about 10 % of 200: {}", moved.len());
    assert_eq!(migration.records.len(), moved.len());
    for record in &migration.records {
        let Record::Connection(c) = record else { panic!("{record:?}") };
        assert_eq!((c.version, c.migrated_from), (Some(v("2.0.0")), Some(v("1.0.0"))), "{}", c.id);
    }
    registry.apply(&migration.records);
    assert_eq!(ids_on(&registry, "2.0.0"), expected);
    assert_eq!(ids_on(&registry, "1.0.0").len(), 200 - expected.len());

    // Again: nothing new moves. On a fresh copy: the same connections are chosen.
    let again = registry.migrate(KEY, v("1.0.0"), v("2.0.0"), 10, false, TODAY).unwrap();
    assert!(again.moved.is_empty(), "{:?}", again.moved);
    let fresh = original.migrate(KEY, v("1.0.0"), v("2.0.0"), 10, false, TODAY).unwrap();
    assert_eq!(fresh.moved, migration.moved);

    // 20 % afterwards: a superset.
    let twenty = registry.migrate(KEY, v("1.0.0"), v("2.0.0"), 20, false, TODAY).unwrap();
    assert!(twenty.moved.iter().all(|id| !expected.contains(id) && (10..20).contains(&bucket(id))));
    registry.apply(&twenty.records);
    let on_two = ids_on(&registry, "2.0.0");
    assert!(on_two.is_superset(&expected) && on_two.len() > expected.len());
    let fresh_twenty = original.migrate(KEY, v("1.0.0"), v("2.0.0"), 20, false, TODAY).unwrap();
    assert_eq!(fresh_twenty.moved.iter().cloned().collect::<BTreeSet<_>>(), on_two);
}

#[test]
fn revert_moves_back_exactly_what_a_migration_brought() {
    let mut registry = registry_with(200, true);
    // A connection made on 2.0.0 directly, in a low bucket: a revert must leave it there.
    let native = (0..).map(|i| format!("native-{i}")).find(|id| bucket(id) < 10).unwrap();
    connect(&mut registry, connection(&native, Some("2.0.0"), true, false));
    let migration = registry.migrate(KEY, v("1.0.0"), v("2.0.0"), 20, false, TODAY).unwrap();
    registry.apply(&migration.records);
    let migrated: BTreeSet<String> = migration.moved.iter().cloned().collect();

    // A partial revert: only those below 10.
    let partial = registry.migrate(KEY, v("1.0.0"), v("2.0.0"), 10, true, TODAY).unwrap();
    let expected: BTreeSet<String> = migrated.iter().filter(|id| bucket(id) < 10).cloned().collect();
    assert_eq!(partial.moved.iter().cloned().collect::<BTreeSet<_>>(), expected);

    let revert = registry.migrate(KEY, v("1.0.0"), v("2.0.0"), 100, true, TODAY).unwrap();
    assert_eq!(revert.moved.iter().cloned().collect::<BTreeSet<_>>(), migrated);
    registry.apply(&revert.records);
    assert_eq!(ids_on(&registry, "2.0.0"), BTreeSet::from([native]));
    assert_eq!(ids_on(&registry, "1.0.0").len(), 200);
    assert!(registry.connections.values().all(|c| c.migrated_from.is_none()));
}

#[test]
fn a_migration_to_a_version_needing_a_property_some_connection_lacks_moves_nothing() {
    let mut registry = registry_with(0, true);
    let ids: Vec<String> = (0..40).map(|i| format!("shop-{i}")).collect();
    for id in &ids {
        connect(&mut registry, connection(id, None, true, false));
    }
    // One connection without the tenant 2.0.0 requires, among those that 100 % moves.
    connect(&mut registry, connection("lacks-tenant", None, false, false));
    let before = registry.clone();
    let err = registry.migrate(KEY, v("1.0.0"), v("2.0.0"), 100, false, TODAY).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("nothing moved"), "{message}");
    assert!(message.contains("lacks-tenant") && message.contains("tenant"), "{message}");
    assert!(!message.contains("shop-1:"), "only the connection that lacks it is named: {message}");
    assert_eq!(registry, before);
    // 1.1.0 does not require it: that migration goes through.
    assert_eq!(registry.migrate(KEY, v("1.0.0"), v("1.1.0"), 100, false, TODAY).unwrap().moved.len(), 41);
}

#[test]
fn deprecation_is_announced_21_days_ahead_and_never_for_the_default() {
    let mut registry = registry_with(2, true);
    let err = registry.deprecate(KEY, v("1.1.0"), TODAY + Duration::days(20), TODAY).unwrap_err();
    assert!(err.to_string().contains("21 days"), "{err}");
    let record = registry.deprecate(KEY, v("1.1.0"), TODAY + Duration::days(21), TODAY).unwrap();
    assert!(matches!(&record, Record::Version(r) if r.deprecated_on == Some(TODAY + Duration::days(21))));
    let err = registry.deprecate(KEY, v("1.0.0"), TODAY + Duration::days(60), TODAY).unwrap_err();
    assert!(err.to_string().contains("default version"), "{err}");
    registry.apply(&[registry.promote(KEY, v("2.0.0")).unwrap()]);
    assert!(registry.deprecate(KEY, v("1.0.0"), TODAY + Duration::days(21), TODAY).is_ok());
}

#[test]
fn from_the_deprecation_date_a_connection_on_the_version_does_not_run() {
    let mut registry = registry_with(1, true);
    connect(&mut registry, connection("on-two", Some("2.0.0"), true, false));
    registry.apply(&[registry.promote(KEY, v("2.0.0")).unwrap()]);
    let on = TODAY + Duration::days(21);
    registry.apply(&[registry.deprecate(KEY, v("1.0.0"), on, TODAY).unwrap()]);
    let id = "client-000";

    let day_before = on - Duration::days(1);
    assert!(registry.bind(&registry.connections[id], day_before).is_ok());
    let runtime = registry.runtime(day_before);
    assert!(runtime.webhook_sources.get(id).is_some() && runtime.refusal(id).is_none());

    let err = registry.bind(&registry.connections[id], on).unwrap_err();
    assert_eq!(err, AppError::Deprecated { connection: id.into(), app: format!("{KEY}@1.0.0"), since: on });
    assert!(err.to_string().contains("deprecated since 2026-03-23"), "{err}");
    let runtime = registry.runtime(on);
    assert!(runtime.webhook_sources.get(id).is_none());
    assert!(matches!(runtime.refusal(id), Some(AppError::Deprecated { .. })), "{:?}", runtime.refusal(id));
    assert!(runtime.webhook_sources.get("on-two").is_some() && runtime.refusal("on-two").is_none());
    // Nor can a new connection be made on it.
    assert!(registry.connect(connection("late", Some("1.0.0"), true, false), on).is_err());
}

#[test]
fn env_values_are_set_read_and_unset_per_version() {
    let mut registry = registry_with(1, true);
    let id = "client-000";
    assert_eq!(seller_name(&registry, id, TODAY), "Acme (default-1.0.0)");
    let record = registry.set_env(KEY, v("1.0.0"), "region", Some("eu-south".into()), false).unwrap();
    registry.apply(&[record]);
    assert_eq!(registry.version(KEY, v("1.0.0")).unwrap().env.get("region").map(String::as_str), Some("eu-south"));
    assert_eq!(seller_name(&registry, id, TODAY), "Acme (eu-south)");
    let record = registry.set_env(KEY, v("1.0.0"), "region", None, false).unwrap();
    registry.apply(&[record]);
    assert!(registry.version(KEY, v("1.0.0")).unwrap().env.is_empty());
    assert_eq!(seller_name(&registry, id, TODAY), "Acme (default-1.0.0)");
    let err = registry.set_env(KEY, v("1.0.0"), "undeclared", Some("x".into()), false).unwrap_err();
    assert!(err.to_string().contains("undeclared"), "{err}");
}

#[test]
fn a_version_production_connections_use_needs_force_to_change() {
    let mut registry = registry_with(1, true);
    connect(&mut registry, connection("live-shop", None, true, true));
    let err = registry.set_env(KEY, v("1.0.0"), "region", Some("us".into()), false).unwrap_err();
    assert!(err.to_string().contains("live-shop") && err.to_string().contains("--force"), "{err}");
    assert!(registry.set_env(KEY, v("1.0.0"), "region", Some("us".into()), true).is_ok());
    assert!(registry.set_env(KEY, v("1.0.0"), "region", None, false).is_err(), "unset is a change too");
    // 1.1.0 has no production connection.
    assert!(registry.set_env(KEY, v("1.1.0"), "region", Some("us".into()), false).is_ok());
}

#[test]
fn a_secret_env_value_must_be_a_reference() {
    let registry = registry_with(0, true);
    let err = registry.set_env(KEY, v("1.0.0"), "signing_ref", Some("hunter2-plain".into()), false).unwrap_err();
    assert!(err.to_string().contains("reference") && !err.to_string().contains("hunter2"), "{err}");
    let ok = registry.set_env(KEY, v("1.0.0"), "signing_ref", Some("ssm:/orderflow/sign".into()), false);
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn env_values_do_not_leak_between_versions() {
    let mut registry = registry_with(1, true);
    connect(&mut registry, connection("on-two", Some("2.0.0"), true, false));
    registry.apply(&[registry.set_env(KEY, v("1.0.0"), "region", Some("only-one".into()), false).unwrap()]);
    assert_eq!(seller_name(&registry, "client-000", TODAY), "Acme (only-one)");
    assert_eq!(seller_name(&registry, "on-two", TODAY), "Acme (default-2.0.0)");
    let runtime = registry.runtime(TODAY);
    assert_eq!(runtime.webhook_sources.get("on-two").unwrap().seller_name, "Acme (default-2.0.0)");
}

/// `definition` changed at `pointer` (a JSON pointer) to `value`.
fn corrupted(pointer: &str, value: Value) -> String {
    let mut document = definition("1.0.0");
    *document.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = value;
    document.to_string()
}

/// The error of the first check that refuses `text`, as publish would give it.
fn refusal(text: &str) -> String {
    let definition = match AppDefinition::from_json(text) {
        Ok(d) => d,
        Err(e) => return e.to_string(),
    };
    if let Err(e) = definition.check() {
        return e.to_string();
    }
    let err = check_renders(&definition).expect_err("refused");
    let published = Registry::default().publish(definition).unwrap_err();
    assert_eq!(published, AppError::Refused(err.to_string()));
    err.to_string()
}

#[test]
fn the_sample_definition_is_valid() {
    let definition = AppDefinition::from_json(&definition("1.0.0").to_string()).unwrap();
    definition.check().unwrap();
    check_renders(&definition).unwrap();
}

#[test]
fn a_corrupted_definition_is_refused_naming_the_place() {
    // A wrong type deep inside the document.
    let err = refusal(&corrupted("/properties/1/required", json!("yes")));
    assert!(err.starts_with(&format!("{KEY}@1.0.0: properties[1].required: ")), "{err}");
    // A wrong type deep inside a configuration template.
    let err = refusal(&corrupted("/triggers/webhook/config/seller_id/value", json!(42)));
    assert!(err.starts_with(&format!("{KEY}@1.0.0: triggers.webhook.config.seller_id.value: ")), "{err}");
    // A placeholder naming nothing declared.
    let err = refusal(&corrupted("/triggers/webhook/config/seller_name", json!("{{property.nickname}}")));
    assert!(err.starts_with(&format!("{KEY}@1.0.0: triggers.webhook.config.seller_name: ")), "{err}");
    assert!(err.contains("nickname"), "{err}");
    // A malformed placeholder.
    let err = refusal(&corrupted("/triggers/webhook/config/secret_ref", json!("{{secrets.webhook_secret}}")));
    assert!(err.contains("triggers.webhook.config.secret_ref"), "{err}");
    // A default of the wrong type.
    let mut document = definition("1.0.0");
    document["properties"][2]["default"] = json!(7);
    let err = refusal(&document.to_string());
    assert!(err.contains("properties[2].default"), "{err}");
    // An operation the runtime does not perform, and one of the wrong kind.
    document = definition("1.0.0");
    document["actions"] = json!({ "shop": { "operations": [
        { "name": "fulfil", "kind": "update" }, { "name": "teleport", "kind": "update" }
    ], "config": {} } });
    let err = refusal(&document.to_string());
    assert!(err.contains("actions.shop.operations[1].name") && err.contains("teleport"), "{err}");
    document["actions"]["shop"]["operations"][1] = json!({ "name": "fulfil", "kind": "create" });
    let err = refusal(&document.to_string());
    assert!(err.contains("actions.shop.operations[1].kind"), "{err}");
}

#[test]
fn a_published_version_never_changes() {
    let registry = registry_with(0, true);
    let mut document = definition("1.0.0");
    document["name"] = json!("Renamed");
    let err = registry.publish(AppDefinition::from_json(&document.to_string()).unwrap()).unwrap_err();
    assert!(err.to_string().contains("never changes"), "{err}");
    let same = AppDefinition::from_json(&definition("1.0.0").to_string()).unwrap();
    assert_eq!(registry.publish(same).unwrap(), Vec::new());
}

#[tokio::test]
async fn the_store_saves_only_over_the_revision_it_read() {
    let store = MemoryAppStore::new(registry_with(2, true));
    let read = store.load().await.unwrap();
    let promote = read.promote(KEY, v("2.0.0")).unwrap();
    store.save(std::slice::from_ref(&promote)).await.unwrap();
    assert_eq!(store.load().await.unwrap().apps[KEY].default_version, v("2.0.0"));

    // A second operator who read before that save: refused, nothing saved.
    let stale = read.promote(KEY, v("1.1.0")).unwrap();
    let deprecate = read.deprecate(KEY, v("1.1.0"), TODAY + Duration::days(30), TODAY);
    let err = store.save(&[deprecate.unwrap_or_else(|e| panic!("{e}")), stale]).await.unwrap_err();
    assert!(err.to_string().contains(CHANGED_SINCE_READ) && err.to_string().contains(&format!("app#{KEY}")), "{err}");
    let now = store.load().await.unwrap();
    assert_eq!(now.apps[KEY].default_version, v("2.0.0"));
    assert_eq!(now.version(KEY, v("1.1.0")).unwrap().deprecated_on, None, "all or nothing");

    // A new record over an existing one (revision 0): refused too.
    let mut twin = now.connections["client-000"].clone();
    twin.revision = 0;
    let err = store.save(&[Record::Connection(twin)]).await.unwrap_err();
    assert!(err.to_string().contains(CHANGED_SINCE_READ), "{err}");
}

#[test]
fn rendered_shows_what_bind_reads_with_the_connection_as_name() {
    let mut registry = registry_with(1, true);
    registry.apply(&[registry.set_env(KEY, v("1.0.0"), "region", Some("eu-south".into()), false).unwrap()]);
    let connection = &registry.connections["client-000"];
    let rendered = registry.rendered(connection, TODAY).unwrap();
    assert_eq!(rendered.len(), 1);
    let (runtime, config) = &rendered[0];
    assert_eq!(*runtime, "webhook");
    assert_eq!(config["name"], "client-000");
    assert_eq!(config["seller_name"], "Acme (eu-south)");
    assert_eq!(config["secret_ref"], "local:client-000");
    let later = TODAY + Duration::days(60);
    registry.apply(&[registry.promote(KEY, v("2.0.0")).unwrap()]);
    registry.apply(&[registry.deprecate(KEY, v("1.0.0"), TODAY + Duration::days(21), TODAY).unwrap()]);
    assert!(matches!(registry.rendered(&registry.connections["client-000"], later), Err(AppError::Deprecated { .. })));
}

#[test]
fn a_changed_connection_keeps_its_version_and_what_a_migration_noted() {
    let mut registry = registry_with(0, true);
    let id = (0..).map(|i| format!("moved-{i}")).find(|id| bucket(id) < 50).unwrap();
    connect(&mut registry, connection(&id, None, true, false));
    registry.apply(&registry.migrate(KEY, v("1.0.0"), v("1.1.0"), 50, false, TODAY).unwrap().records);
    registry.apply(&[registry.promote(KEY, v("2.0.0")).unwrap()]);
    // Changed without naming a version (a new description): neither the default nor back to 1.0.0.
    let mut changed = connection(&id, None, true, false);
    changed.description = "renamed".into();
    connect(&mut registry, changed);
    let stored = &registry.connections[&id];
    assert_eq!((stored.version, stored.migrated_from), (Some(v("1.1.0")), Some(v("1.0.0"))));
    assert_eq!(stored.description, "renamed");
    let revert = registry.migrate(KEY, v("1.0.0"), v("1.1.0"), 100, true, TODAY).unwrap();
    assert_eq!(revert.moved, vec![id.clone()]);
    let err = registry.migrate(KEY, v("1.1.0"), v("1.1.0"), 100, false, TODAY).unwrap_err();
    assert!(err.to_string().contains("same version"), "{err}");
}

/// The shipped connections (deployed and local) bound to the shipped definitions: each runs,
/// names its secrets by reference only, and a shop polled and hooked has one seller.
#[test]
fn the_shipped_connections_run_on_the_shipped_definitions_with_secret_references_only() {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    let mut definitions: Vec<String> = std::fs::read_dir(config.join("apps"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    definitions.sort();
    assert!(definitions.len() >= 8, "the shipped definitions");
    let texts: Vec<&str> = definitions.iter().map(String::as_str).collect();
    let today = date!(2026 - 12 - 04);
    for (file, prefix) in [("connections.json", "ssm:/orderflow/"), ("connections.local.json", "local:")] {
        let connections =
            seed::ConnectionsFile::from_json(&std::fs::read_to_string(config.join(file)).unwrap()).unwrap();
        let registry = seed::registry(&texts, &connections, today).unwrap_or_else(|e| panic!("{file}: {e}"));
        let runtime = registry.runtime(today);
        assert_eq!(runtime.refusals().count(), 0, "{file}: {:?}", runtime.refusals().collect::<Vec<_>>());
        let erps: Vec<&str> = runtime.connectors.connectors.keys().map(String::as_str).collect();
        assert_eq!(erps, ["business-central", "sap-b1"], "{file}");
        assert!(!runtime.shops.shops.is_empty() && runtime.shops.shops.values().all(|s| !s.on.is_empty()), "{file}");
        let refs: Vec<String> = runtime
            .connectors
            .connectors
            .values()
            .flat_map(|c| c.secret_refs())
            .chain(runtime.shops.shops.values().flat_map(|s| s.secret_refs()))
            .chain(runtime.poll_sources.iter().flat_map(|s| s.auth.secret_refs()))
            .chain(runtime.webhook_sources.iter().map(|s| s.secret_ref.as_str()))
            .map(str::to_owned)
            .collect();
        assert!(refs.len() >= 10, "{file}: {refs:?}");
        assert!(refs.iter().all(|r| r.starts_with(prefix)), "{file}: {refs:?}");
        let both: Vec<_> =
            runtime.poll_sources.iter().filter_map(|p| Some((p, runtime.webhook_sources.get(&p.name)?))).collect();
        assert_eq!(both.len(), 2, "{file}: shopify and woocommerce come through both doors");
        for (polled, hooked) in both {
            assert_eq!(polled.seller(), hooked.seller(), "{file}: {}", polled.name);
        }
    }
}

/// Re-applying a connection as it was written before a migration does not undo the migration:
/// naming the old version is refused, leaving the version out keeps the migrated one.
#[test]
fn a_connection_changes_version_only_by_migration() {
    let mut registry = registry_with(1, true);
    let migration = registry.migrate(KEY, v("1.0.0"), v("2.0.0"), 100, false, TODAY).unwrap();
    assert_eq!(migration.moved, ["client-000"]);
    registry.apply(&migration.records);
    let refused = registry.connect(connection("client-000", Some("1.0.0"), true, false), TODAY).unwrap_err();
    assert!(refused.to_string().contains("orderflow apps migrate"), "{refused}");
    connect(&mut registry, connection("client-000", None, true, false));
    assert_eq!(registry.connections["client-000"].version, Some(v("2.0.0")));
    assert_eq!(registry.connections["client-000"].migrated_from, Some(v("1.0.0")), "still revertible");
}
