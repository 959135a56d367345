//! Implementations of the ports: AWS SDK clients, and in-process embedded stand-ins.

pub mod aws;
pub mod embedded;
