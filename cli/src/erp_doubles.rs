//! `orderflow erp-doubles`: the local ERP and shop test servers, for `orderflow serve --erp
//! <name>` and `orderflow serve --shops`.
//! They stand in for Business Central and SAP Business One the way the tests use them: same
//! auth, same duplicate and business-error answers, records kept in memory until stopped.

use orderflow_doubles::{BcAuth, FakeBc, FakeSap, FakeShopify, FakeWoo};
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::ports::{Clock, SystemClock};

/// Where each double listens; the defaults are the ports of the `.local.json` config files.
pub struct Ports {
    pub bc: u16,
    pub sap: u16,
    pub shopify: u16,
    pub woo: u16,
}

pub async fn run(ports: Ports) -> Result<(), String> {
    // Tokens and sessions never expire on a clock nobody advances.
    let clock = ManualClock::new(SystemClock.now_ms());
    let bc = FakeBc::start_on(ports.bc, clock.clone()).await.map_err(|e| format!("Business Central double: {e}"))?;
    let sap = FakeSap::start_on(ports.sap, clock.clone()).await.map_err(|e| format!("SAP Business One double: {e}"))?;
    let shopify =
        FakeShopify::start_on(ports.shopify, clock.clone()).await.map_err(|e| format!("Shopify double: {e}"))?;
    let woo = FakeWoo::start_on(ports.woo, clock).await.map_err(|e| format!("WooCommerce double: {e}"))?;
    println!("orderflow erp-doubles: Business Central at {}", bc.base_url(BcAuth::Bearer));
    println!("orderflow erp-doubles: SAP Business One at {}", sap.base_url());
    println!("orderflow erp-doubles: Shopify (GraphQL Admin) at {}", shopify.graphql_url());
    println!("orderflow erp-doubles: WooCommerce (REST v3) at {}", woo.base_url());
    println!("They keep what they accept in memory until stopped (Ctrl-C); the shops start with no orders.");
    // Keeps the servers (and their records) alive until the process is stopped.
    let _running = (bc, sap, shopify, woo);
    std::future::pending().await
}
