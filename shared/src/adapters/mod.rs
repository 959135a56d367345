//! Implementations of the ports: AWS SDK clients, and in-process embedded stand-ins.

#[cfg(feature = "aws")]
pub mod aws;
pub mod embedded;
