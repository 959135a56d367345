//! The end-to-end tests in one test binary, so they link once: a module per function or
//! contract, most against moto. The reliability suite is its own binary (`reliability/`), since its
//! fault and crash runs load moto heavily and are kept apart from these.

mod apps;
mod backoffice;
mod catalog_sync;
mod converter;
mod dte_http;
mod email_notifier;
mod erp_connectors;
mod error_handler;
mod operator_tools;
mod order_poller;
mod order_store_contract;
mod queue_reader;
mod recovery_helpers;
mod recovery_workflow;
mod schema;
mod shop_sync;
mod shop_sync_actions;
mod staging_contract;
mod state_router;
mod stats_reads;
mod webhook_bridge;
mod webhook_effects;
mod webhook_vectors;
