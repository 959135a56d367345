//! The back-office portal: server-rendered pages under `/console` for the people who run the
//! order flow. Viewers read; operators also act on exceptions. The handlers are generic over
//! the ports: `main.rs` wires DynamoDB, SQS and S3 behind API Gateway, and `orderflow serve`
//! mounts the same router over the embedded pipeline.

pub mod accounts;
pub mod actions;
pub mod apps_page;
pub mod authorizer;
pub mod charts;
pub mod classes;
pub mod cognito;
pub mod config;
pub mod exceptions;
pub mod identity;
pub mod layout;
pub mod order_page;
pub mod originals;
pub mod overview;
pub mod portal;
pub mod search;
pub mod session;
pub mod sign_in;
pub mod stats;
pub mod tokens;
pub mod views;

pub use portal::{Gate, Portal, Queues, router};
