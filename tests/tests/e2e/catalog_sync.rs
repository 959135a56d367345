//! Catalogue and stock sync (issue 18) against the ERP and shop doubles, on the embedded
//! staging table: only changed SKUs reach the shop, the shop's and the ERP's failures leave
//! staging as the buffer, a crash between pushing and marking clean has no second effect.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use orderflow_cli::bridge::origin_of;
use orderflow_doubles::{ErpItem, FakeBc, FakeShopify, FakeWoo, Scripted, ShopFault};
use orderflow_e2e::fake_erp;
use orderflow_e2e::{local_runtime, repo_path};
use orderflow_shared::adapters::embedded::{ManualClock, MemoryAuditLog, MemoryStaging};
use orderflow_shared::catalog::{
    CatalogConfig, CatalogSync, Checkpoint, ErpItems, ItemState, Phase, RunSummary, Settings, Sku, StagedItem,
    StagingStore,
};
use orderflow_shared::erp::ProfileConfig;
use orderflow_shared::error::PortError;
use orderflow_shared::mapping::{FileSource, MappingRef};
use orderflow_shared::secrets::Secret;
use orderflow_shared::shop::ShopConnector;

const START_MS: u64 = 1_772_409_600_000;

fn secrets() -> HashMap<String, Secret> {
    let text = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    let values: HashMap<String, String> = serde_json::from_str(&text).unwrap();
    let mut secrets: HashMap<String, Secret> =
        values.into_iter().map(|(k, v)| (format!("local:{k}"), Secret::new(v))).collect();
    secrets.insert("local:bc-client-secret".into(), Secret::new(fake_erp::BC_CLIENT_SECRET));
    secrets
}

fn file_mapping(reference: &MappingRef) -> Result<FileSource, String> {
    match reference {
        MappingRef::File(path) => Ok(FileSource::new(path.clone())),
        other => Err(format!("tests map from files, not {other:?}")),
    }
}

/// A staging table that can be made to fail its writes, as when the function dies after the
/// shop answered and before the items were marked clean.
#[derive(Clone, Default)]
struct Crashing {
    inner: MemoryStaging,
    fail_puts: Arc<AtomicBool>,
}

impl StagingStore for Crashing {
    async fn all(&self) -> Result<Vec<StagedItem>, PortError> {
        self.inner.all().await
    }
    async fn put(&self, items: &[StagedItem]) -> Result<(), PortError> {
        if self.fail_puts.load(Ordering::SeqCst) {
            return Err(PortError::transient("staging.put", "the function died"));
        }
        self.inner.put(items).await
    }
    async fn dirty(&self, after: Option<&Sku>, limit: usize) -> Result<Vec<StagedItem>, PortError> {
        self.inner.dirty(after, limit).await
    }
    async fn refused(&self) -> Result<Vec<StagedItem>, PortError> {
        self.inner.refused().await
    }
    async fn checkpoint(&self) -> Result<Option<Checkpoint>, PortError> {
        self.inner.checkpoint().await
    }
    async fn set_checkpoint(&self, checkpoint: Option<&Checkpoint>) -> Result<(), PortError> {
        self.inner.set_checkpoint(checkpoint).await
    }
    async fn record_run(&self, summary: &RunSummary) -> Result<(), PortError> {
        self.inner.record_run(summary).await
    }
    async fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, PortError> {
        self.inner.runs(limit).await
    }
}

struct Setup {
    bc: FakeBc,
    shopify: FakeShopify,
    woo: FakeWoo,
    staging: Crashing,
    log: MemoryAuditLog,
    sync: CatalogSync<Crashing, MemoryAuditLog, FileSource>,
    settings: Settings,
}

async fn setup(shop: &str, adjust: impl FnOnce(&mut CatalogConfig)) -> Setup {
    let clock = ManualClock::new(START_MS);
    let bc = FakeBc::start(clock.clone()).await;
    let shopify = FakeShopify::start(clock.clone()).await;
    shopify.set_rate_limit(1_000_000.0, 1_000.0);
    let woo = FakeWoo::start(clock.clone()).await;
    let origin = bc.token_url().trim_end_matches("/token").to_owned();
    let runtime = local_runtime(&[
        ("http://127.0.0.1:18080", &origin),
        ("http://127.0.0.1:18090", origin_of(&shopify.graphql_url()).unwrap()),
        ("http://127.0.0.1:18091", origin_of(&woo.base_url()).unwrap()),
    ]);
    let connectors = runtime.connectors;
    let mut config =
        CatalogConfig::from_json(&std::fs::read_to_string(repo_path("config/catalog.local.json")).unwrap()).unwrap();
    config.shop = shop.to_owned();
    adjust(&mut config);
    let erp_config = &connectors.connectors[&config.erp];
    let erp = ErpItems::new(erp_config, &secrets(), Arc::new(clock.clone())).unwrap();
    let mut shops = runtime.shops;
    assert_eq!(shops.shops["shopify"].base_url, shopify.graphql_url().trim_end_matches("/graphql.json"));
    assert_eq!(shops.shops["woocommerce"].base_url, woo.base_url());
    for shop in shops.shops.values_mut() {
        shop.timeout_ms = 500;
    }
    let shop_connector =
        ShopConnector::new(shop, &shops.shops[shop], &secrets(), file_mapping, Arc::new(clock.clone())).unwrap();
    let staging = Crashing::default();
    let log = MemoryAuditLog::default();
    let settings = config.settings(&erp_config.profile).unwrap();
    let sync =
        CatalogSync { store: staging.clone(), log: log.clone(), erp, shop: shop_connector, clock: Arc::new(clock) };
    Setup { bc, shopify, woo, staging, log, sync, settings }
}

fn item(n: u32, stock: &str) -> ErpItem {
    ErpItem::new(&format!("SKU-{n:05}"), &format!("Item {n}"), &format!("{n}.90"), stock)
}

impl Setup {
    fn seed(&self, count: u32) {
        for n in 1..=count {
            self.bc.put_item(item(n, &(n % 7).to_string()));
        }
    }

    async fn run(&self, phase: Phase) -> RunSummary {
        self.sync.run(phase, &self.settings, &|_, _| {}).await.unwrap()
    }

    fn shopify_ops(&self) -> Vec<String> {
        self.shopify.log().into_iter().filter_map(|l| l.operation).collect()
    }
}

#[tokio::test]
async fn first_sync_pages_through_the_erp_and_creates_every_sku_in_shopify_with_its_stock() {
    let s = setup("shopify", |_| {}).await;
    s.bc.set_page_size(2);
    s.seed(5);
    let summary = s.run(Phase::Both).await;
    assert_eq!((summary.read, summary.changed, summary.pushed, summary.refused), (5, 5, 5, 0), "{summary:?}");
    assert_eq!(summary.error, None);
    assert_eq!(summary.erp_calls, 3, "three pages of two");
    let products = s.shopify.products();
    assert_eq!(products.len(), 5);
    let variant = s.shopify.variant("SKU-00003").unwrap();
    // Business Central writes prices as JSON numbers, so the scale is the number's: 3.9.
    assert_eq!((variant.available, variant.price.to_string().as_str()), (3, "3.9"));
    let staged = s.staging.inner.item("SKU-00003").unwrap();
    assert_eq!(staged.state, ItemState::Clean);
    assert!(staged.shop.is_some_and(|ids| ids.inventory_item_id.is_some()), "the shop's ids are cached");
    let exchanges = s.log.exchanges();
    assert!(!exchanges.is_empty());
    assert!(exchanges.iter().all(|e| e.status.is_some() && e.expires_at > START_MS / 1000 + 29 * 86_400));
    let everything = serde_json::to_string(&exchanges).unwrap();
    assert!(!everything.contains(fake_erp::SHOPIFY_ACCESS_TOKEN) && !everything.contains(fake_erp::BC_CLIENT_SECRET));
    assert!(everything.contains("SKU-00003"), "bodies are kept, redacted");
}

#[tokio::test]
async fn an_incremental_sync_sends_only_what_changed_and_an_unchanged_catalogue_makes_no_shop_call() {
    let s = setup("shopify", |_| {}).await;
    s.seed(20);
    s.run(Phase::Both).await;
    let before = s.shopify.log().len();

    let unchanged = s.run(Phase::Both).await;
    assert_eq!((unchanged.read, unchanged.changed, unchanged.shop_calls), (20, 0, 0), "{unchanged:?}");
    assert_eq!(s.shopify.log().len(), before, "zero calls to the shop");
    assert_eq!(unchanged.items_written, 0);

    s.bc.put_item(item(4, "40"));
    s.bc.put_item(ErpItem::new("SKU-00009", "Item 9, renamed", "9.90", "2"));
    let incremental = s.run(Phase::Both).await;
    assert_eq!((incremental.changed, incremental.pushed, incremental.shop_calls), (2, 2, 2), "{incremental:?}");
    assert_eq!(
        s.shopify_ops()[before..],
        ["inventorySetQuantities", "productSet"],
        "in SKU order: stock-only, one stock call; title-only, one product call"
    );
    assert_eq!(s.shopify.variant("SKU-00004").unwrap().available, 40);
    assert!(s.shopify.products().iter().any(|p| p.title == "Item 9, renamed"));
}

#[tokio::test]
async fn a_stale_stock_answer_is_read_again_once_and_retried_once() {
    let s = setup("shopify", |_| {}).await;
    s.seed(3);
    s.run(Phase::Both).await;
    s.shopify.set_available("SKU-00002", 11);
    s.bc.put_item(item(2, "25"));
    let before = s.shopify.log().len();
    let summary = s.run(Phase::Both).await;
    assert_eq!((summary.pushed, summary.failed), (1, 0), "{summary:?}");
    assert_eq!(s.shopify_ops()[before..], ["inventorySetQuantities", "productVariants", "inventorySetQuantities"]);
    assert_eq!(s.shopify.variant("SKU-00002").unwrap().available, 25);
}

#[tokio::test]
async fn a_refused_sku_is_an_exception_with_its_reason_and_the_others_go_on() {
    let s = setup("shopify", |_| {}).await;
    s.seed(3);
    s.bc.put_item(ErpItem::new("SKU-00002", "", "2.90", "2"));
    let summary = s.run(Phase::Both).await;
    assert_eq!((summary.pushed, summary.refused), (2, 1), "{summary:?}");
    let refused = s.staging.refused().await.unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].sku().as_str(), "SKU-00002");
    assert!(refused[0].refusal.as_deref().unwrap().contains("Title can't be blank"), "{:?}", refused[0].refusal);

    let again = s.run(Phase::Both).await;
    assert_eq!(again.shop_calls, 0, "a refusal is not retried until the ERP data changes");
    s.bc.put_item(item(2, "2"));
    let fixed = s.run(Phase::Both).await;
    assert_eq!(fixed.pushed, 1);
    assert!(s.staging.refused().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_sku_the_shop_does_not_know_and_may_not_create_is_an_exception() {
    let s = setup("shopify", |c| c.options.create_missing = false).await;
    s.shopify.seed_product("SKU-00001", "By hand", "1.00", 0);
    s.seed(2);
    let summary = s.run(Phase::Both).await;
    assert_eq!((summary.pushed, summary.refused), (1, 1), "{summary:?}");
    let refused = s.staging.refused().await.unwrap();
    assert_eq!(refused[0].sku().as_str(), "SKU-00002");
    assert!(refused[0].refusal.as_deref().unwrap().contains("create_missing is off"));
    assert_eq!(s.shopify.products().len(), 1, "nothing created");
    assert_eq!(s.shopify.products()[0].tags, ["hand-made"], "list fields the ERP does not own are left alone");
}

#[tokio::test]
async fn an_erp_that_fails_half_way_changes_nothing_in_staging_and_nothing_is_pushed() {
    let s = setup("shopify", |_| {}).await;
    s.seed(4);
    s.run(Phase::Both).await;
    let shop_calls = s.shopify.log().len();
    let writes = s.staging.inner.writes();
    s.bc.set_page_size(2);
    s.bc.put_item(item(1, "50"));
    s.bc.put_item(item(4, "60"));
    s.bc.script(Scripted::EmptyLookup); // the first page is served
    s.bc.script(Scripted::Reply(503, serde_json::json!({"error": {"code": "Unavailable", "message": "down"}})));
    let summary = s.run(Phase::Both).await;
    assert!(summary.error.as_deref().is_some_and(|e| e.starts_with("pull:")), "{summary:?}");
    assert_eq!((summary.changed, summary.pushed), (0, 0));
    assert_eq!(s.staging.inner.writes(), writes, "staging untouched");
    assert_eq!(s.staging.inner.item("SKU-00001").unwrap().product.stock.to_string(), "1");
    assert_eq!(s.shopify.log().len(), shop_calls, "nothing pushed");
    assert_eq!(s.staging.inner.runs(1).await.unwrap()[0].error, summary.error, "the failed run is recorded");
}

#[tokio::test]
async fn when_the_shop_is_down_the_skus_stay_dirty_and_go_with_the_next_run() {
    let s = setup("shopify", |_| {}).await;
    s.seed(3);
    s.shopify.script(ShopFault::Reply(503, serde_json::json!({"errors": "Service Unavailable"})));
    let down = s.run(Phase::Both).await;
    assert!(down.error.as_deref().is_some_and(|e| e.starts_with("push:")), "{down:?}");
    assert_eq!((down.pushed, down.failed), (0, 3));
    assert_eq!(s.staging.dirty(None, 10).await.unwrap().len(), 3);
    assert!(s.shopify.products().is_empty());

    let up = s.run(Phase::Push).await;
    assert_eq!((up.pushed, up.failed, up.error.as_deref()), (3, 0, None), "{up:?}");
    assert_eq!(up.run_id, down.run_id, "the unfinished push is resumed under its run id");
    assert_eq!(s.shopify.products().len(), 3);
    assert!(s.staging.checkpoint().await.unwrap().is_none(), "a finished push clears its checkpoint");
}

#[tokio::test]
async fn a_crash_between_pushing_and_marking_clean_has_no_second_effect_in_the_shop() {
    let s = setup("shopify", |_| {}).await;
    s.seed(3);
    s.run(Phase::Both).await;
    let changes = s.shopify.inventory_changes();
    s.bc.put_item(item(3, "30"));
    s.run(Phase::Pull).await;
    s.shopify.set_available("SKU-00003", 3); // unchanged: the compare quantity staging holds
    s.staging.fail_puts.store(true, Ordering::SeqCst);
    let crashed = s.sync.run(Phase::Push, &s.settings, &|_, _| {}).await;
    assert!(crashed.is_err(), "the run died");
    assert_eq!(s.shopify.inventory_changes(), changes + 1, "the stock was set before the crash");
    assert_eq!(s.staging.inner.item("SKU-00003").unwrap().state, ItemState::Dirty);

    s.staging.fail_puts.store(false, Ordering::SeqCst);
    s.shopify.set_available("SKU-00003", 29); // a sale after our change
    let resumed = s.run(Phase::Push).await;
    assert_eq!((resumed.pushed, resumed.error.as_deref()), (1, None), "{resumed:?}");
    assert_eq!(s.shopify.inventory_changes(), changes + 1, "the resumed push sent the same key: no second change");
    assert_eq!(s.shopify.variant("SKU-00003").unwrap().available, 29, "the sale is not overwritten");
    assert_eq!(s.staging.inner.item("SKU-00003").unwrap().state, ItemState::Clean);
}

#[tokio::test]
async fn a_sku_gone_from_the_erp_stays_in_the_shop_unless_allow_delete_is_on() {
    for allow_delete in [false, true] {
        let s = setup("shopify", |c| c.options.allow_delete = allow_delete).await;
        s.seed(3);
        s.run(Phase::Both).await;
        s.bc.remove_item("SKU-00002");
        let summary = s.run(Phase::Both).await;
        assert_eq!(summary.changed, 1, "{summary:?}");
        let deleted = s.shopify_ops().iter().any(|op| op == "productDelete");
        assert_eq!(deleted, allow_delete);
        assert_eq!(s.shopify.variant("SKU-00002").is_some(), !allow_delete);
        assert_eq!(s.shopify.products().len(), if allow_delete { 2 } else { 3 });
        assert_eq!(s.staging.inner.item("SKU-00002").unwrap().state, ItemState::Clean);
    }
}

#[tokio::test]
async fn a_mapping_change_is_applied_on_the_next_run_without_a_rebuild() {
    let mut s = setup("shopify", |_| {}).await;
    s.seed(2);
    s.run(Phase::Both).await;
    // The operator edits the catalogue configuration: titles now come from the item number.
    let text = r#"{"erp": "business-central", "shop": "shopify", "fields": {"path": "items", "next_link": "@odata.nextLink",
        "mapping": {"version": 1, "target": {"sku": {"path": "order.number"}, "title": {"path": "order.number"},
            "price": {"path": "order.unitPrice"}, "stock": {"path": "order.inventory"}}}}}"#;
    s.settings = CatalogConfig::from_json(text).unwrap().settings(&ProfileConfig::BusinessCentral).unwrap();
    let summary = s.run(Phase::Both).await;
    assert_eq!((summary.changed, summary.pushed), (2, 2), "{summary:?}");
    let titles: Vec<String> = s.shopify.products().into_iter().map(|p| p.title).collect();
    assert_eq!(titles, ["SKU-00001", "SKU-00002"]);
}

#[tokio::test]
async fn woocommerce_gets_batches_of_at_most_one_hundred_and_only_changed_skus() {
    let s = setup("woocommerce", |_| {}).await;
    s.woo.seed_product("SKU-00007", "Old name", "1.00", 0);
    s.seed(150);
    let first = s.run(Phase::Both).await;
    assert_eq!((first.pushed, first.refused), (150, 0), "{first:?}");
    assert_eq!(first.shop_calls, 4, "two lookups and two batches");
    assert_eq!(s.woo.products().len(), 150, "the existing product was updated, not duplicated");
    s.bc.put_item(item(42, "99"));
    let incremental = s.run(Phase::Both).await;
    assert_eq!((incremental.changed, incremental.shop_calls), (1, 1), "{incremental:?}");
    let product = s.woo.products().into_iter().find(|p| p["sku"] == "SKU-00042").unwrap();
    assert_eq!(product["stock_quantity"], 99);
}

#[tokio::test]
async fn sap_business_one_items_are_read_in_pages_with_their_stock_on_hand() {
    let clock = ManualClock::new(START_MS);
    let sap = orderflow_doubles::FakeSap::start(clock.clone()).await;
    let connectors =
        local_runtime(&[("http://127.0.0.1:18081", sap.base_url().trim_end_matches("/b1s/v1"))]).connectors;
    let config = &connectors.connectors["sap-b1"];
    for n in 1..=5 {
        sap.put_item(item(n, &format!("{n}.5")));
    }
    let erp = ErpItems::new(config, &secrets(), Arc::new(clock)).unwrap();
    let mut fields = orderflow_shared::catalog::ItemFields::for_profile(&config.profile).unwrap();
    fields.max_page_size = Some(2);
    let audit = orderflow_shared::catalog::Recorder::new("run-sap", 7);
    let read = erp.read_all(&fields, &audit, &|_| {}).await.unwrap();
    assert_eq!((read.products.len(), read.calls), (5, 3));
    assert_eq!(read.products[2].stock.to_string(), "3.5");
    assert_eq!(read.products[2].price.to_string(), "3.9");
    let pages: Vec<_> = sap.log().into_iter().filter(|l| l.path.ends_with("/Items")).collect();
    assert_eq!(pages.len(), 3);
}

/// The Lambda handler on moto's SSM: the catalogue configuration and the credentials are read
/// at every invocation, so an edited parameter applies on the next run; a stopped run is an
/// error the schedule retries.
#[tokio::test]
async fn the_handler_reads_its_configuration_from_ssm_at_each_run_and_a_stopped_run_is_an_error() {
    use catalog_sync::handler::{Deps, HandlerError, handle};
    use orderflow_shared::adapters::aws::AwsSecretStore;

    let sdk = orderflow_e2e::sdk_config().await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let prefix = format!("/{}", orderflow_e2e::unique("catalog"));
    let put =
        async |name: &str, value: &str| orderflow_e2e::put_parameter(&ssm, &format!("{prefix}/{name}"), value).await;
    let clock = ManualClock::new(START_MS);
    let bc = FakeBc::start(clock.clone()).await;
    let shopify = FakeShopify::start(clock.clone()).await;
    for n in 1..=3 {
        bc.put_item(item(n, "5"));
    }
    put("bc-client-secret", fake_erp::BC_CLIENT_SECRET).await;
    put("shopify-access-token", fake_erp::SHOPIFY_ACCESS_TOKEN).await;
    put("catalog", r#"{"erp": "business-central", "shop": "shopify"}"#).await;
    let origin = bc.token_url().trim_end_matches("/token").to_owned();
    // The local connections, their secret references moved from local: to the parameters above.
    let ssm = format!("ssm:{prefix}/");
    let apps = Arc::new(local_runtime(&[
        ("http://127.0.0.1:18080", &origin),
        ("http://127.0.0.1:18090", origin_of(&shopify.graphql_url()).unwrap()),
        ("local:", &ssm),
    ]));
    let shop_base = shopify.graphql_url().trim_end_matches("/graphql.json").to_owned();
    assert_eq!(apps.shops.shops["shopify"].base_url, shop_base);
    let staging = MemoryStaging::default();
    let deps = Deps {
        store: staging.clone(),
        log: MemoryAuditLog::default(),
        secrets: AwsSecretStore::new(&sdk),
        catalog_ref: format!("ssm:{prefix}/catalog").parse().unwrap(),
        apps,
        clock: Arc::new(clock),
    };

    let summary = handle(&deps, serde_json::json!({"phase": "both"}), None).await.unwrap();
    assert_eq!((summary.read, summary.pushed), (3, 3), "{summary:?}");

    put("catalog", r#"{"erp": "business-central", "shop": "shopify", "create_missing": false}"#).await;
    bc.put_item(item(4, "1"));
    let refused = handle(&deps, serde_json::json!({}), None).await.unwrap();
    assert_eq!(refused.refused, 1, "the edited configuration applied without a redeploy: {refused:?}");

    shopify.script(ShopFault::Reply(503, serde_json::json!({"errors": "Service Unavailable"})));
    bc.put_item(item(1, "9"));
    let quiet = handle(&deps, serde_json::json!({"phase": "push"}), None).await.unwrap();
    assert_eq!((quiet.read, quiet.shop_calls), (0, 0), "a push-only run does not pull, and nothing was dirty");
    let stopped = handle(&deps, serde_json::json!({"phase": "both"}), None).await;
    assert!(matches!(stopped, Err(HandlerError::Stopped { .. })), "{stopped:?}");
    assert_eq!(staging.dirty(None, 10).await.unwrap().len(), 1, "the changed SKU stays dirty for the retry");

    let bad = handle(&deps, serde_json::json!({"phase": "sideways"}), None).await;
    assert!(matches!(bad, Err(HandlerError::BadEvent(_))), "{bad:?}");
}

#[tokio::test]
async fn a_throttled_call_waits_as_long_as_the_shop_asks_and_the_run_goes_on() {
    let s = setup("shopify", |_| {}).await;
    s.seed(2);
    s.shopify.script(ShopFault::TooManyRequests { retry_after_secs: 1 });
    let started = std::time::Instant::now();
    let summary = s.run(Phase::Both).await;
    assert_eq!((summary.pushed, summary.error.as_deref()), (2, None), "{summary:?}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "it waited for Retry-After");
    let statuses: Vec<Option<u16>> = s.shopify.log().iter().take(2).map(|l| l.status).collect();
    assert_eq!(statuses, [Some(429), Some(200)], "the same call, sent again");
}

#[tokio::test]
async fn an_answer_lost_after_the_shop_set_the_stock_is_resumed_under_the_same_key_without_a_second_change() {
    let s = setup("shopify", |_| {}).await;
    s.seed(3);
    s.run(Phase::Both).await;
    let changes = s.shopify.inventory_changes();
    s.bc.put_item(item(2, "20"));
    s.shopify.script(ShopFault::HangAfterWork);
    let lost = s.run(Phase::Both).await;
    assert!(lost.error.as_deref().is_some_and(|e| e.starts_with("push:")), "{lost:?}");
    assert_eq!(s.shopify.inventory_changes(), changes + 1, "the shop did set it");
    s.shopify.set_available("SKU-00002", 18); // two sold since
    let resumed = s.run(Phase::Both).await;
    assert_eq!((resumed.run_id.as_str(), resumed.pushed), (lost.run_id.as_str(), 1), "{resumed:?}");
    assert_eq!(s.shopify.inventory_changes(), changes + 1, "no second change");
    assert_eq!(s.shopify.variant("SKU-00002").unwrap().available, 18);
}

#[tokio::test]
async fn a_woocommerce_item_refused_in_the_batch_is_an_exception_and_the_others_are_clean() {
    let s = setup("woocommerce", |_| {}).await;
    s.seed(3);
    // The lookup passes; the batch answer refuses its second item, as WooCommerce answers an
    // invalid item inside a 200.
    s.woo.script(ShopFault::Pass);
    let product = |n: u32| serde_json::json!({"id": 100 + n, "sku": format!("SKU-{n:05}"), "stock_quantity": n});
    let error = serde_json::json!({"id": 0, "error": {"code": "woocommerce_rest_invalid_product_price", "message": "Invalid regular price.", "data": {"status": 400}}});
    s.woo.script(ShopFault::Reply(200, serde_json::json!({"create": [product(1), error, product(3)]})));
    let summary = s.run(Phase::Both).await;
    assert_eq!((summary.pushed, summary.refused, summary.shop_calls), (2, 1, 2), "{summary:?}");
    let refused = s.staging.refused().await.unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].sku().as_str(), "SKU-00002");
    assert!(refused[0].refusal.as_deref().unwrap().contains("Invalid regular price."), "{:?}", refused[0].refusal);
    let clean = s.staging.inner.item("SKU-00003").unwrap();
    assert_eq!(
        (clean.state, clean.shop.unwrap().product_id.as_str()),
        (ItemState::Clean, "103"),
        "the id the batch answered is cached"
    );
}

/// A batch answer that names no product id for a created item, or none at all for an item,
/// leaves that SKU refused with the reason, never clean with a shop id of nothing (which every
/// later update would send as product 0).
#[tokio::test]
async fn a_woocommerce_batch_answer_without_an_id_or_a_result_refuses_the_sku() {
    let s = setup("woocommerce", |_| {}).await;
    s.seed(3);
    s.woo.script(ShopFault::Pass);
    let product = |n: u32| serde_json::json!({"id": 100 + n, "sku": format!("SKU-{n:05}"), "stock_quantity": n});
    let no_id = serde_json::json!({"sku": "SKU-00002", "stock_quantity": 2});
    s.woo.script(ShopFault::Reply(200, serde_json::json!({"create": [product(1), no_id]})));
    let summary = s.run(Phase::Both).await;
    assert_eq!((summary.pushed, summary.refused), (1, 2), "{summary:?}");
    let refused = s.staging.refused().await.unwrap();
    let why = |sku: &str| refused.iter().find(|i| i.sku().as_str() == sku).and_then(|i| i.refusal.clone()).unwrap();
    assert!(why("SKU-00002").contains("no product id"), "{refused:?}");
    assert!(why("SKU-00003").contains("no create result"), "{refused:?}");
    assert!(refused.iter().all(|i| i.shop.is_none()), "no empty id cached: {refused:?}");
}

#[tokio::test]
async fn a_push_out_of_time_leaves_the_rest_dirty_for_the_next_run_without_failing() {
    let mut s = setup("shopify", |_| {}).await;
    s.seed(3);
    s.settings.stop_at_ms = Some(START_MS); // the clock is there already: no chunk may start
    let out_of_time = s.run(Phase::Both).await;
    assert_eq!(
        (out_of_time.pushed, out_of_time.deferred, out_of_time.error.as_deref()),
        (0, 3, None),
        "{out_of_time:?}"
    );
    assert!(s.staging.checkpoint().await.unwrap().is_some(), "the checkpoint carries the run on");
    s.settings.stop_at_ms = None;
    let next = s.run(Phase::Push).await;
    assert_eq!((next.run_id.as_str(), next.pushed, next.deferred), (out_of_time.run_id.as_str(), 3, 0));
}

/// The same runs on the DynamoDB staging table and request log (moto): the sparse index serves
/// the push, and an unchanged catalogue writes nothing and calls nobody.
#[tokio::test]
async fn a_first_and_an_unchanged_sync_on_dynamodb_staging() {
    use orderflow_e2e::dynamo::{create_keyed_table, create_staging_table};
    use orderflow_shared::adapters::aws::{DynamoAuditLog, DynamoStaging, dynamodb_client};
    use orderflow_shared::catalog::assemble::build;

    let client = dynamodb_client(&orderflow_e2e::sdk_config().await);
    let (staging_table, audit_table) = (orderflow_e2e::unique("staging"), orderflow_e2e::unique("audit"));
    create_staging_table(&client, &staging_table).await;
    create_keyed_table(&client, &audit_table).await;
    let clock = ManualClock::new(START_MS);
    let bc = FakeBc::start(clock.clone()).await;
    let shopify = FakeShopify::start(clock.clone()).await;
    for n in 1..=60 {
        bc.put_item(item(n, "4"));
    }
    let origin = bc.token_url().trim_end_matches("/token").to_owned();
    let runtime = local_runtime(&[
        ("http://127.0.0.1:18080", &origin),
        ("http://127.0.0.1:18090", origin_of(&shopify.graphql_url()).unwrap()),
    ]);
    let shop_base = shopify.graphql_url().trim_end_matches("/graphql.json").to_owned();
    assert_eq!(runtime.shops.shops["shopify"].base_url, shop_base);
    let config =
        CatalogConfig::from_json(&std::fs::read_to_string(repo_path("config/catalog.local.json")).unwrap()).unwrap();
    let built = build(&config, &runtime, &secrets(), Arc::new(clock.clone())).unwrap();
    let store = DynamoStaging::new(client.clone(), &staging_table);
    let sync = CatalogSync {
        store: store.clone(),
        log: DynamoAuditLog::new(client.clone(), &audit_table),
        erp: built.erp,
        shop: built.shop,
        clock: Arc::new(clock),
    };
    let first = sync.run(Phase::Both, &built.settings, &|_, _| {}).await.unwrap();
    assert_eq!((first.read, first.pushed, first.error.as_deref()), (60, 60, None), "{first:?}");
    assert_eq!(shopify.products().len(), 60, "two chunks of the dirty index, past its first page of 50");
    assert!(store.dirty(None, 100).await.unwrap().is_empty());
    let unchanged = sync.run(Phase::Both, &built.settings, &|_, _| {}).await.unwrap();
    assert_eq!((unchanged.changed, unchanged.shop_calls, unchanged.items_written), (0, 0, 0), "{unchanged:?}");
    assert_eq!(store.runs(5).await.unwrap().len(), 2);
    let logged = client.scan().table_name(&audit_table).send().await.unwrap();
    assert!(logged.items().len() > 60, "every call is in the request log");
}
