//! The back-office portal through HTTP, as a browser uses it: signed in from the accounts file,
//! on the embedded adapters and on moto. Helpers here; the cases in the modules below.

mod actions;
mod backfill;
mod cognito;
mod helpers;
mod moto;
mod pages;
mod scale;
