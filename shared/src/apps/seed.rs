//! A registry built from documents: app definitions and a connections file
//! (`config/connections*.json`), each definition published and each connection connected as
//! an operator would, so a seed passes the same checks as `orderflow apps put`.

use serde::{Deserialize, Serialize};
use time::Date;

use super::definition::AppDefinition;
use super::registry::{Connection, Registry};

/// `config/connections.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub connections: Vec<Connection>,
}

impl ConnectionsFile {
    pub fn from_json(text: &str) -> Result<Self, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let at = e.path().to_string();
            format!("{at}: {}", e.into_inner())
        })
    }
}

/// The registry holding `definitions` (JSON texts) and `connections`, as of `today`.
pub fn registry(definitions: &[&str], connections: &ConnectionsFile, today: Date) -> Result<Registry, String> {
    let mut registry = Registry::default();
    for text in definitions {
        let definition = AppDefinition::from_json(text).map_err(|e| e.to_string())?;
        let records = registry.publish(definition).map_err(|e| e.to_string())?;
        registry.apply(&records);
    }
    for connection in &connections.connections {
        let record = registry.connect(connection.clone(), today).map_err(|e| e.to_string())?;
        registry.apply(&[record]);
    }
    Ok(registry)
}
