//! `orderflow erp-doubles`: the local ERP test servers, for `orderflow serve --erp <name>`.
//! They stand in for Business Central and SAP Business One the way the tests use them: same
//! auth, same duplicate and business-error answers, records kept in memory until stopped.

use orderflow_doubles::{BcAuth, FakeBc, FakeSap};
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::ports::{Clock, SystemClock};

pub async fn run(bc_port: u16, sap_port: u16) -> Result<(), String> {
    // Tokens and sessions never expire on a clock nobody advances.
    let clock = ManualClock::new(SystemClock.now_ms());
    let bc = FakeBc::start_on(bc_port, clock.clone()).await.map_err(|e| format!("Business Central double: {e}"))?;
    let sap = FakeSap::start_on(sap_port, clock).await.map_err(|e| format!("SAP Business One double: {e}"))?;
    println!("orderflow erp-doubles: Business Central at {}", bc.base_url(BcAuth::Bearer));
    println!("orderflow erp-doubles: SAP Business One at {}", sap.base_url());
    println!("They keep what they accept in memory until stopped (Ctrl-C).");
    // Keeps both servers (and their records) alive until the process is stopped.
    let _running = (bc, sap);
    std::future::pending().await
}
