//! `orderflow erp-doubles`: the local ERP, shop and partner test servers, for `orderflow serve
//! --erp <name>`, `--shops` and `--poll-every`.
//! They stand in for Business Central and SAP Business One the way the tests use them: same
//! auth, same duplicate and business-error answers, records kept in memory until stopped.

use orderflow_doubles::{BcAuth, ErpItem, FakeBc, FakePartner, FakeSap, FakeShopify, FakeWoo, SeedOrder};
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::ports::{Clock, SystemClock};

/// Items in each ERP double's catalogue.
const SAMPLE_ITEMS: u32 = 250;

/// Where each double listens; the defaults are the ports of the `.local.json` config files.
pub struct Ports {
    pub bc: u16,
    pub sap: u16,
    pub shopify: u16,
    pub woo: u16,
    pub partner: u16,
}

pub async fn run(ports: Ports) -> Result<(), String> {
    // Tokens and sessions never expire on a clock nobody advances.
    let clock = ManualClock::new(SystemClock.now_ms());
    let bc = FakeBc::start_on(ports.bc, clock.clone()).await.map_err(|e| format!("Business Central double: {e}"))?;
    let sap = FakeSap::start_on(ports.sap, clock.clone()).await.map_err(|e| format!("SAP Business One double: {e}"))?;
    let shopify =
        FakeShopify::start_on(ports.shopify, clock.clone()).await.map_err(|e| format!("Shopify double: {e}"))?;
    let woo = FakeWoo::start_on(ports.woo, clock.clone()).await.map_err(|e| format!("WooCommerce double: {e}"))?;
    let partner = FakePartner::start_on(ports.partner, clock).await.map_err(|e| format!("B2B partner double: {e}"))?;
    // The cost bucket refills on the double's clock, which nobody advances here: a bucket
    // this large stands in for the refill a real store gives a catalogue sync over time.
    shopify.set_rate_limit(10_000_000.0, 1_000.0);
    // A small catalogue in both ERPs, so `orderflow sync run` has something to move.
    for n in 1..=SAMPLE_ITEMS {
        let item = ErpItem::new(
            &format!("DEMO-{n:04}"),
            &format!("Demo item {n}"),
            &format!("{}.90", 1 + n % 50),
            &(n % 13).to_string(),
        );
        bc.put_item(item.clone());
        sap.put_item(item);
    }
    seed_orders(&shopify, &woo, &partner);
    println!("orderflow erp-doubles: Business Central at {}", bc.base_url(BcAuth::Bearer));
    println!("orderflow erp-doubles: SAP Business One at {}", sap.base_url());
    println!("orderflow erp-doubles: Shopify (GraphQL Admin) at {}", shopify.graphql_url());
    println!("orderflow erp-doubles: WooCommerce (REST v3) at {}", woo.base_url());
    println!("orderflow erp-doubles: B2B partner (purchase orders) at {}", partner.base_url());
    println!("They keep what they accept in memory until stopped (Ctrl-C). The shops and the partner hold a few");
    println!("orders for `orderflow serve --poll-every` (some the poll filters leave out), the shops no products,");
    println!("the ERPs {SAMPLE_ITEMS} catalogue items (DEMO-0001 …) for `orderflow sync run`.");
    // Keeps the servers (and their records) alive until the process is stopped.
    let _running = (bc, sap, shopify, woo, partner);
    std::future::pending().await
}

/// Orders waiting to be polled: per platform one the local poll source's filter takes and,
/// for WooCommerce and the partner, one it leaves out (`pending`, `draft`).
fn seed_orders(shopify: &FakeShopify, woo: &FakeWoo, partner: &FakePartner) {
    let order = |id: u64, updated_at: &str| {
        SeedOrder::new(id, updated_at).number(id).customer("Camila", "Rojas", "camila.rojas@example.cl").line(
            "CAF-GRANO-1KG",
            "Café de grano 1 kg",
            2,
            "12990",
        )
    };
    shopify.seed_order(&order(5_001, "2026-03-02T10:00:00Z"));
    woo.seed_order(&order(2_001, "2026-03-02T10:00:00Z"), "processing");
    woo.seed_order(&order(2_002, "2026-03-02T10:05:00Z"), "pending");
    partner.seed_order(&order(801, "2026-03-02T10:00:00Z"), "confirmed");
    partner.seed_order(&order(802, "2026-03-02T10:05:00Z"), "draft");
}
