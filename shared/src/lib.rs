//! The common crate of orderflow: the domain at the bottom (order model, UBL parsing,
//! errors, config, telemetry), the ports above it, and the adapters that implement them.

pub mod adapters;
pub mod api;
pub mod apps;
pub mod asl;
pub mod batch;
pub mod catalog;
pub mod claim_check;
pub mod command;
pub mod config;
pub mod credentials;
pub mod day_backfill;
pub mod day_counts;
pub mod dte;
pub mod effect_claim;
pub mod email;
pub mod erp;
pub mod error;
pub mod heap;
pub mod http_answer;
pub mod http_client;
pub mod intake;
pub mod lifecycle;
pub mod mapping;
pub mod operator;
pub mod order;
pub mod order_service;
pub mod orders_api;
pub mod parking;
pub mod poll;
pub mod ports;
pub mod s3_event;
pub mod secrets;
pub mod shop;
pub mod startup;
pub mod telemetry;
#[cfg(test)]
mod test_dir;
pub mod text;
pub mod ubl;
pub mod webhook;
