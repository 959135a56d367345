//! The integration apps, read-only: each app's versions with where they stand (default,
//! active, deprecated on a date, retired), and the connections on each version, those on a
//! deprecated or retired version marked, since they must migrate. Changes are made with
//! `orderflow apps`, which checks them; the portal only shows.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State as AxumState;
use axum::response::Response;
use orderflow_shared::apps::{Registry, VersionState};
use orderflow_shared::error::PortError;
use orderflow_shared::ports::AppStore;
use serde::Serialize;
use time::Date;

use crate::layout::{self, render};
use crate::portal::{App, Ports, Visitor};

/// Where the page reads the apps: the store itself (one read per view, so the page shows what
/// `orderflow apps` just did), behind a trait object so the portal's adapter list stays short.
pub type AppsReader = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Registry, PortError>> + Send>> + Send + Sync>;

pub fn reader<S: AppStore + 'static>(store: Arc<S>) -> AppsReader {
    Arc::new(move || {
        let store = store.clone();
        Box::pin(async move { store.load().await })
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRow {
    pub app: String,
    pub name: String,
    pub version: String,
    pub state: String,
    /// The version's connections must move before (or since) its date.
    pub must_migrate: bool,
    pub triggers: Vec<&'static str>,
    pub actions: Vec<String>,
    pub connections: Vec<ConnectionRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionRow {
    pub id: String,
    pub production: bool,
}

/// One row per version, by app and version.
pub fn rows(registry: &Registry, today: Date) -> Vec<VersionRow> {
    registry
        .versions
        .values()
        .map(|record| {
            let d = &record.definition;
            let state = registry.state_of(record, today);
            let triggers = [("webhook", d.triggers.webhook.is_some()), ("poll", d.triggers.poll.is_some())];
            let actions = [("shop", &d.actions.shop), ("erp", &d.actions.erp)];
            VersionRow {
                app: d.key.clone(),
                name: d.name.clone(),
                version: d.version.to_string(),
                state: state.to_string(),
                must_migrate: matches!(state, VersionState::Deprecated { .. } | VersionState::Retired { .. }),
                triggers: triggers.into_iter().filter(|(_, on)| *on).map(|(t, _)| t).collect(),
                actions: actions
                    .into_iter()
                    .filter_map(|(runtime, action)| {
                        let action = action.as_ref()?;
                        let ops: Vec<&str> = action.operations.iter().map(|o| o.name.as_str()).collect();
                        Some(format!("{runtime}: {}", ops.join(", ")))
                    })
                    .collect(),
                connections: registry
                    .connections_on(&d.key, d.version)
                    .map(|c| ConnectionRow { id: c.id.clone(), production: c.production })
                    .collect(),
            }
        })
        .collect()
}

pub async fn page<P: Ports>(AxumState(portal): AxumState<App<P>>, Extension(me): Extension<Visitor>) -> Response {
    let registry = match (portal.apps)().await {
        Ok(registry) => registry,
        Err(e) => return layout::unavailable(&portal.config, &me, "The apps", &e),
    };
    let rows = rows(&registry, time::OffsetDateTime::now_utc().date());
    let to_migrate: usize = rows.iter().filter(|r| r.must_migrate).map(|r| r.connections.len()).sum();
    let page = crate::page! {
        "title": "Integration apps",
        "rows": rows,
        "connections": registry.connections.len(),
        "to_migrate": to_migrate,
    };
    render(&portal.config, &me, "apps.html", "apps", page)
}

#[cfg(test)]
mod tests {
    use orderflow_shared::apps::seed::{self, ConnectionsFile};
    use serde_json::json;
    use time::macros::date;

    use super::*;

    const APP: &str = r#"{"key": "acme", "name": "Acme", "version": "1.0.0", "auth": {"mechanism": "none"},
        "properties": [{"name": "seller", "type": "string", "required": true}],
        "triggers": {"webhook": {"config": {"scheme": {"kind": "shopify"}, "secret_ref": "ssm:/acme",
            "seller_name": "{{property.seller}}", "seller_id": {"value": "1"}}}}}"#;

    #[test]
    fn each_version_lists_its_connections_and_those_on_a_deprecated_one_must_migrate() {
        let next = APP.replace("1.0.0", "2.0.0");
        let connection = |id: &str, version: &str| json!({"id": id, "app": "acme", "version": version, "properties": {"seller": "S"}});
        let file: ConnectionsFile =
            serde_json::from_value(json!({"connections": [connection("a", "1.0.0"), connection("b", "2.0.0")]}))
                .unwrap();
        let today = date!(2026 - 12 - 01);
        let mut registry = seed::registry(&[APP, &next], &file, today).unwrap();
        registry.apply(&[registry.promote("acme", "2.0.0".parse().unwrap()).unwrap()]);
        let on = date!(2026 - 12 - 31);
        registry.apply(&[registry.deprecate("acme", "1.0.0".parse().unwrap(), on, today).unwrap()]);
        let shown = rows(&registry, today);
        assert_eq!(shown.len(), 2);
        assert_eq!((shown[0].state.as_str(), shown[0].must_migrate), ("deprecated on 2026-12-31", true));
        assert_eq!(shown[0].connections, [ConnectionRow { id: "a".into(), production: true }]);
        assert_eq!((shown[1].state.as_str(), shown[1].must_migrate), ("default", false));
        assert_eq!(shown[1].triggers, ["webhook"]);
        assert_eq!(rows(&registry, on)[0].state, "retired since 2026-12-31");
    }
}
