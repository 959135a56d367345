//! Integration apps: each connector (a shop, an ERP, a partner's API) described as data, one
//! document per version, and connections that pin one client to one version. See
//! `docs/APPS.md`.
//!
//! - [`definition`]: the document and its rules; [`template`]: its placeholders.
//! - [`registry`]: what the store holds; [`lifecycle`]: publish, connect, promote, migrate,
//!   deprecate, environment values.
//! - [`bind`]: a connection rendered into the configurations the functions run on.
//! - [`live`]: the functions' view, read through a short cache.
//! - [`seed`]: the shipped definitions and a connections file as a registry (embedded runs).

pub mod bind;
pub mod definition;
pub mod lifecycle;
pub mod live;
pub mod registry;
pub mod seed;
pub mod template;
pub mod version;

pub use bind::{Bound, Runtime};
pub use definition::AppDefinition;
pub use lifecycle::{DEPRECATION_NOTICE_DAYS, Migration, bucket};
pub use live::{Apps, LiveApps, Rebuilt};
pub use registry::{AppError, AppRecord, Connection, Record, Registry, VersionRecord, VersionState};
pub use version::Version;

#[cfg(test)]
mod tests;
