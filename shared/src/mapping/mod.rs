//! Declarative field mapping: which ERP field gets which part of the canonical order.
//!
//! A mapping is a JSON document kept outside the code (a local file in development, an S3
//! object in AWS; see [`MappingRef`]). [`Mapping::from_json`] checks all of it at load time,
//! including every source path against the canonical order schema, and refuses it with a
//! message naming the place ([`SpecError`]). [`MappingStore`] reloads it on a TTL and keeps
//! the previous mapping when a new one is refused. The document format is described in
//! `spec`; the shipped examples are in `config/mappings/`.

mod apply;
mod loader;
mod node;
mod path;
mod spec;
mod transform;
mod value;

#[cfg(test)]
mod tests;

pub use apply::ApplyError;
pub use loader::{
    ConfiguredSource, FileSource, LoadError, MappingRef, MappingSource, MappingStore, NotAMappingRef, ObjectSource,
};
pub use spec::SpecError;
pub use value::Value;

use std::ops::Deref;
use std::sync::Arc;

use crate::order::CanonicalOrder;

/// A checked mapping, ready to apply to any number of orders.
#[derive(Debug)]
pub struct Mapping {
    target: spec::Fields,
}

impl Mapping {
    pub fn from_json(text: &str) -> Result<Self, SpecError> {
        let doc: node::Node = serde_json::from_str(text).map_err(|e| SpecError::Syntax(e.to_string()))?;
        Ok(Self { target: spec::compile(&doc)? })
    }

    /// A mapping the other way round: its `order.…` paths read a partner's order record (any
    /// shape, so they are not checked against the canonical schema) and its targets are the
    /// canonical order's fields. The order poller's generic source maps with it; the result is
    /// checked by parsing it as a canonical order.
    pub fn inbound_from_json(text: &str) -> Result<Self, SpecError> {
        let doc: node::Node = serde_json::from_str(text).map_err(|e| SpecError::Syntax(e.to_string()))?;
        Ok(Self { target: spec::compile_inbound(&doc)? })
    }

    /// Applies the mapping to any JSON record (an inbound mapping's partner record).
    pub fn apply_json(&self, record: &serde_json::Value) -> Result<Value, ApplyError> {
        apply::apply(&self.target, record)
    }

    /// The target document for one order: an object with the mapping's fields, in its order.
    pub fn apply(&self, order: &CanonicalOrder) -> Result<Value, ApplyError> {
        let order = serde_json::to_value(order).expect("a canonical order always serialises");
        apply::apply(&self.target, &order)
    }
}

/// An inbound mapping as a configuration file holds it: the mapping document itself, checked
/// when the file is read ([`Mapping::inbound_from_json`]), shared by clones. The order poller's
/// partner sources and the catalogue's item rows read other systems' records with it.
#[derive(Debug, Clone)]
pub struct InboundMapping(Arc<Mapping>);

impl InboundMapping {
    pub fn from_json(text: &str) -> Result<Self, SpecError> {
        Mapping::inbound_from_json(text).map(|m| Self(Arc::new(m)))
    }
}

impl Deref for InboundMapping {
    type Target = Mapping;

    fn deref(&self) -> &Mapping {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for InboundMapping {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let document = serde_json::Value::deserialize(de)?;
        Self::from_json(&document.to_string()).map_err(serde::de::Error::custom)
    }
}
