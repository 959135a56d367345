//! Integration apps as the functions see them: two versions of one app running side by side on
//! different connections, a migration that keeps a connection's poll cursor, and a deprecated
//! version whose runs fail clearly (a poll) or answer 410 (a webhook) once its date has come.
//! The functions read the apps through `LiveApps` over the in-memory store, as they read the
//! DynamoDB table (whose adapter the contract test below holds to the same behaviour).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use order_poller::{Poller, handle};
use orderflow_doubles::{FakePartner, SeedOrder};
use orderflow_shared::adapters::embedded::{
    EmbeddedFifoQueue, ManualClock, MemoryAppStore, MemoryPollCursors, MemoryReplayGuard,
};
use orderflow_shared::apps::live::date_of;
use orderflow_shared::apps::seed::{self, ConnectionsFile};
use orderflow_shared::apps::{AppDefinition, Connection, LiveApps, Registry, Version, bucket};
use orderflow_shared::poll::{LocalSecrets, real_pause};
use orderflow_shared::ports::{AppStore, Clock};
use orderflow_shared::secrets::Secret;
use serde_json::{Value, json};
use time::Duration as Days;
use webhook_bridge::{Receiver, StaticKeys};

use crate::webhook_bridge::{local_secret, now, standard_headers};

const MAPPED_BY_NAME: &str = "1.0.0";
const MAPPED_BY_COMPANY: &str = "2.0.0";
/// The apps cache of the functions; the tests move the clock past it to see a change.
const TTL: Duration = Duration::from_secs(30);

fn v(text: &str) -> Version {
    text.parse().unwrap()
}

/// Every shipped definition, as text.
fn definitions() -> Vec<String> {
    let dir = orderflow_e2e::repo_path("config/apps");
    let mut texts: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
    texts.sort();
    assert!(texts.len() >= 8, "the shipped definitions are read");
    texts
}

fn registry(connections: Value, clock: &ManualClock) -> Registry {
    let file: ConnectionsFile = serde_json::from_value(json!({ "connections": connections })).unwrap();
    let texts = definitions();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    seed::registry(&texts, &file, date_of(clock.now_ms())).unwrap()
}

fn partner_connection(id: &str, version: &str, base_url: &str, extra: Value) -> Value {
    let mut properties = json!({
        "base_url": base_url, "seller_name": "Orderflow Demo Store SpA", "seller_id_scheme": "CL:RUT",
        "seller_id": "76123456-7", "start_at": "2026-01-01T00:00:00Z"
    });
    properties.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    json!({"id": id, "app": "partner-rest", "version": version, "production": true,
           "properties": properties, "secrets": {"api_key": "local:acme-partner-api-key"}})
}

/// A partner double holding one confirmed purchase order of a buyer with a company name.
async fn partner(clock: &ManualClock, id: u64) -> FakePartner {
    let partner = FakePartner::start(clock.clone()).await;
    let order = SeedOrder::new(id, "2026-03-01T09:00:00Z")
        .customer("Camila", "Rojas", "compras@cafeteria-rojas.cl")
        .company("Cafetería Rojas Ltda")
        .line("CAF-GRANO-1KG", "Café de grano 1 kg", 2, "12990");
    partner.seed_order(&order, "confirmed");
    partner
}

type LocalPoller = Poller<
    Arc<LiveApps<MemoryAppStore>>,
    LocalSecrets,
    MemoryPollCursors,
    Arc<EmbeddedFifoQueue>,
    Arc<EmbeddedFifoQueue>,
>;

fn poller(apps: &Arc<LiveApps<MemoryAppStore>>, clock: &ManualClock, erp_sync: &Arc<EmbeddedFifoQueue>) -> LocalPoller {
    let text = std::fs::read_to_string(orderflow_e2e::repo_path("config/local-secrets.json")).unwrap();
    let values: HashMap<String, String> = serde_json::from_str(&text).unwrap();
    Poller {
        apps: apps.clone(),
        secrets: LocalSecrets(values.into_iter().map(|(k, v)| (k, Secret::new(v))).collect()),
        cursors: MemoryPollCursors::new(),
        erp_sync: erp_sync.clone(),
        orders: Arc::new(EmbeddedFifoQueue::new("orders")),
        clock: Arc::new(clock.clone()),
        pause: real_pause(),
    }
}

fn live(store: MemoryAppStore, clock: &ManualClock) -> Arc<LiveApps<MemoryAppStore>> {
    Arc::new(LiveApps::new(store, Arc::new(clock.clone()), u64::try_from(TTL.as_millis()).unwrap()))
}

/// The buyer names of the orders queued for the ERP from connection `id`.
fn buyers(erp_sync: &EmbeddedFifoQueue, id: &str) -> Vec<String> {
    erp_sync
        .peek_all()
        .iter()
        .map(|m| serde_json::from_str::<Value>(&m.body).unwrap())
        .filter(|body| body["source"].as_str().is_some_and(|s| s.starts_with(&format!("poll:{id}/"))))
        .map(|body| body["order"]["buyer"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn two_versions_of_one_app_run_side_by_side_each_connection_with_its_own_mapping() {
    let clock = ManualClock::new(1_772_360_000_000); // 2026-03-01
    let (east, west) = (partner(&clock, 7001).await, partner(&clock, 7002).await);
    let connections = json!([
        partner_connection("acme-east", MAPPED_BY_NAME, &east.base_url(), json!({})),
        partner_connection("acme-west", MAPPED_BY_COMPANY, &west.base_url(), json!({"buyer_scheme": "EM"})),
    ]);
    let apps = live(MemoryAppStore::new(registry(connections, &clock)), &clock);
    let erp_sync = Arc::new(EmbeddedFifoQueue::new("erp-sync"));
    let poller = poller(&apps, &clock, &erp_sync);
    for id in ["acme-east", "acme-west"] {
        let report = handle(&poller, json!({"source": id})).await.expect("the poll runs");
        assert_eq!(report.queued, 1, "{id}");
    }
    // The same kind of record, read by each connection's version of the mapping.
    assert_eq!(buyers(&erp_sync, "acme-east"), ["Camila Rojas"]);
    assert_eq!(buyers(&erp_sync, "acme-west"), ["Cafetería Rojas Ltda"]);
}

#[tokio::test]
async fn environment_values_belong_to_one_version() {
    let clock = ManualClock::new(1_772_360_000_000);
    let shopify = std::fs::read_to_string(orderflow_e2e::repo_path("config/apps/shopify@1.0.0.json")).unwrap();
    let mut next: AppDefinition = AppDefinition::from_json(&shopify).unwrap();
    next.version = v("2.0.0");
    let mut registry = registry(json!([]), &clock);
    registry.apply(&registry.publish(next).unwrap());
    let record = registry.set_env("shopify", v("2.0.0"), "api_version", Some("2026-04".into()), false).unwrap();
    registry.apply(&[record]);
    let connection = |id: &str, version: &str| -> Connection {
        serde_json::from_value(json!({"id": id, "app": "shopify", "version": version, "properties": {
            "shop_url": "https://acme.myshopify.com", "seller_name": "Acme SpA", "seller_id": "76000000-0"},
            "secrets": {"access_token": "ssm:/t", "webhook_secret": "ssm:/w"}}))
        .unwrap()
    };
    let today = date_of(clock.now_ms());
    let old = registry.bind(&connection("old", "1.0.0"), today).unwrap();
    let new = registry.bind(&connection("new", "2.0.0"), today).unwrap();
    assert_eq!(old.shop.unwrap().base_url, "https://acme.myshopify.com/admin/api/2026-01");
    assert_eq!(new.shop.unwrap().base_url, "https://acme.myshopify.com/admin/api/2026-04");
    assert!(old.poll.unwrap().base_url.contains("/2026-01/") && new.poll.unwrap().base_url.contains("/2026-04/"));
}

#[tokio::test]
async fn a_migration_keeps_the_cursor_and_a_deprecated_version_stops_its_runs_with_the_reason() {
    let clock = ManualClock::new(1_772_360_000_000);
    let (acme, old) = (partner(&clock, 7101).await, partner(&clock, 7102).await);
    let connections = json!([
        partner_connection("acme", MAPPED_BY_NAME, &acme.base_url(), json!({})),
        partner_connection("acme-legacy", MAPPED_BY_NAME, &old.base_url(), json!({})),
    ]);
    let apps = live(MemoryAppStore::new(registry(connections, &clock)), &clock);
    let store = apps.store();
    let poller = poller(&apps, &clock, &Arc::new(EmbeddedFifoQueue::new("erp-sync")));
    let first = handle(&poller, json!({"source": "acme"})).await.unwrap();
    assert_eq!(first.queued, 1);
    let today = date_of(clock.now_ms());

    // 2.0.0 needs buyer_scheme, which the connection lacks: refused, nothing moves.
    let registry = store.load().await.unwrap();
    let refused =
        registry.migrate("partner-rest", v(MAPPED_BY_NAME), v(MAPPED_BY_COMPANY), 100, false, today).unwrap_err();
    assert!(refused.to_string().contains("acme") && refused.to_string().contains("buyer_scheme"), "{refused}");
    assert_eq!(store.load().await.unwrap(), registry, "a refused migration writes nothing");

    // With the property, the connection moves; its cursor is keyed by the connection, so the
    // next run under 2.0.0 takes nothing the run under 1.0.0 took.
    let mut acme_conn = registry.connections["acme"].clone();
    acme_conn.properties.insert("buyer_scheme".into(), json!("EM"));
    store.save(&[registry.connect(acme_conn, today).unwrap()]).await.unwrap();
    let registry = store.load().await.unwrap();
    // 80 %: the buckets (SHA-256 of the id, mod 100) put acme at 72 and acme-legacy at 92.
    let moved = registry.migrate("partner-rest", v(MAPPED_BY_NAME), v(MAPPED_BY_COMPANY), 80, false, today).unwrap();
    assert_eq!((bucket("acme"), bucket("acme-legacy")), (72, 92));
    assert_eq!(moved.moved, ["acme"]);
    store.save(&moved.records).await.unwrap();
    clock.advance(TTL + Duration::from_secs(1));
    let again = handle(&poller, json!({"source": "acme"})).await.unwrap();
    assert_eq!((again.queued, again.already_taken), (0, 1), "the cursor survived the migration: {again:?}");
    assert_eq!(store.load().await.unwrap().connections["acme"].version, Some(v(MAPPED_BY_COMPANY)));

    // Deprecating 1.0.0: 20 days ahead is refused, 21 accepted (after promoting 2.0.0).
    let registry = store.load().await.unwrap();
    let early = registry.deprecate("partner-rest", v(MAPPED_BY_NAME), today + Days::days(20), today).unwrap_err();
    assert!(early.to_string().contains("21 days"), "{early}");
    store.save(&[registry.promote("partner-rest", v(MAPPED_BY_COMPANY)).unwrap()]).await.unwrap();
    let registry = store.load().await.unwrap();
    store
        .save(&[registry.deprecate("partner-rest", v(MAPPED_BY_NAME), today + Days::days(21), today).unwrap()])
        .await
        .unwrap();

    // Before the date the old version still runs; from it on, its runs fail with the reason.
    clock.advance(Duration::from_secs(20 * 86_400));
    handle(&poller, json!({"source": "acme-legacy"})).await.expect("still runs before the date");
    clock.advance(Duration::from_secs(86_400));
    let gone = handle(&poller, json!({"source": "acme-legacy"})).await.unwrap_err().to_string();
    assert!(
        gone.contains("acme-legacy") && gone.contains("partner-rest@1.0.0") && gone.contains("deprecated since"),
        "{gone}"
    );
    handle(&poller, json!({"source": "acme"})).await.expect("the migrated connection runs on");
}

#[tokio::test]
async fn a_webhook_to_a_connection_on_a_deprecated_version_is_gone_and_says_why() {
    let clock = ManualClock::new(now().unix_timestamp().unsigned_abs() * 1000);
    let standard =
        std::fs::read_to_string(orderflow_e2e::repo_path("config/apps/standard-webhooks@1.0.0.json")).unwrap();
    let mut next = AppDefinition::from_json(&standard).unwrap();
    next.version = v("1.1.0");
    let connection = |id: &str, version: &str| {
        json!({"id": id, "app": "standard-webhooks", "version": version, "properties": {
            "seller_name": "Orderflow Demo Store SpA", "seller_id_scheme": "CL:RUT", "seller_id": "76123456-7"},
            "secrets": {"webhook_secret": "local:standard"}})
    };
    let mut registry = registry(json!([connection("standard", "1.0.0")]), &clock);
    registry.apply(&registry.publish(next).unwrap());
    let today = date_of(clock.now_ms());
    registry.apply(&[registry.promote("standard-webhooks", v("1.1.0")).unwrap()]);
    let moved: Connection = serde_json::from_value(connection("standard-next", "1.1.0")).unwrap();
    registry.apply(&[registry.connect(moved, today).unwrap()]);
    registry.apply(&[registry.deprecate("standard-webhooks", v("1.0.0"), today + Days::days(21), today).unwrap()]);
    let secrets: HashMap<String, String> = HashMap::from([("standard".to_owned(), local_secret("standard"))]);
    let receiver = Receiver {
        apps: live(MemoryAppStore::new(registry), &clock),
        keys: StaticKeys::from_local_secrets(&secrets),
        guard: Arc::new(MemoryReplayGuard::new()),
        erp_sync: Arc::new(EmbeddedFifoQueue::new("erp-sync")),
        orders: Arc::new(EmbeddedFifoQueue::new("orders")),
        retention: Duration::from_secs(3600),
    };
    let order =
        std::fs::read_to_string(orderflow_e2e::repo_path("events/webhooks/standard-order-created.json")).unwrap();
    let post = |source: &'static str, id: &'static str| {
        let receiver = &receiver;
        let body = order.clone();
        async move {
            let headers = standard_headers(body.as_bytes(), id, now().unix_timestamp());
            receiver.receive(source, &headers, body.as_bytes(), now()).await
        }
    };
    assert_eq!(post("standard", "msg_before").await.status.as_u16(), 202, "runs before the date");
    clock.advance(Duration::from_secs(21 * 86_400));
    let gone = post("standard", "msg_after").await;
    assert_eq!(gone.status.as_u16(), 410, "{:?}", gone.body);
    assert_eq!(gone.body["error"]["code"], "version_deprecated");
    let message = gone.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("standard-webhooks@1.0.0") && message.contains("deprecated since"), "{message}");
    assert_eq!(post("standard-next", "msg_next").await.status.as_u16(), 202, "the connection on 1.1.0 runs");
}
