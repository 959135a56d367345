//! The shops orders come from, as a connection's shop action renders them (see `crate::apps`):
//! keyed by the **connection id** their orders arrive under (its webhook and poll triggers), so
//! an order's origin names its shop.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::erp::AuthConfig;
use crate::lifecycle::State;
use crate::mapping::MappingRef;

/// The states whose entry may trigger an action; the stream filter lets only these through.
pub const ACTION_STATES: [State; 4] = [State::Dispatched, State::Delivered, State::Cancelled, State::Refunded];

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopsFile {
    pub shops: BTreeMap<String, ShopConfig>,
}

impl ShopsFile {
    /// Parsed and checked: an action the platform cannot take, or a state that triggers
    /// nothing, is refused here, naming the shop, not when the first order ships.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let file: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (name, shop) in &file.shops {
            shop.check().map_err(|why| format!("shops.{name}: {why}"))?;
        }
        Ok(file)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopConfig {
    pub platform: Platform,
    /// Shopify: `https://<shop>.myshopify.com/admin/api/<version>`; WooCommerce:
    /// `https://<site>/wp-json/wc/v3`; generic: the root the action paths hang off.
    pub base_url: String,
    /// The ERP connectors' mechanisms: Shopify's `X-Shopify-Access-Token` is an `api_key` in a
    /// header, WooCommerce's consumer key and secret are `basic`.
    pub auth: AuthConfig,
    /// Per HTTP request.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Which action each state entered triggers; a state not named triggers nothing.
    pub on: BTreeMap<State, ActionConfig>,
}

fn default_timeout_ms() -> u64 {
    10_000
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Shopify,
    Woocommerce,
    Generic,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionConfig {
    /// Shopify: fulfil every OPEN or IN_PROGRESS fulfillment order, with the tracking.
    Fulfil {
        #[serde(default)]
        notify_customer: bool,
    },
    /// WooCommerce: set the order's status (`completed`, `cancelled`, `refunded`), and add a
    /// private note with the tracking when `note` is on.
    SetStatus {
        status: String,
        #[serde(default = "yes")]
        note: bool,
    },
    /// Any platform with an HTTP API: `method` on `path` (below `base_url`; `{order_id}` and
    /// `{state}` are filled in), with the body the mapping makes of the order plus `state`
    /// and `tracking` fields. An `Idempotency-Key` header goes with it.
    Http { method: String, path: String, mapping_ref: MappingRef },
}

fn yes() -> bool {
    true
}

impl ShopConfig {
    pub fn check(&self) -> Result<(), String> {
        for (state, action) in &self.on {
            if !ACTION_STATES.contains(state) {
                return Err(format!("on.{state}: only entering {ACTION_STATES:?} triggers an action"));
            }
            let fits = match (self.platform, action) {
                (Platform::Shopify, ActionConfig::Fulfil { .. }) => true,
                (Platform::Woocommerce, ActionConfig::SetStatus { status, .. }) => {
                    ["completed", "cancelled", "refunded", "processing", "on-hold"].contains(&status.as_str())
                }
                (_, ActionConfig::Http { method, path, .. }) => {
                    ["POST", "PUT", "PATCH"].contains(&method.as_str()) && path.starts_with('/')
                }
                _ => false,
            };
            if !fits {
                return Err(format!("on.{state}: {action:?} is not an action a {:?} shop takes", self.platform));
            }
        }
        Ok(())
    }

    /// The secret references the shop needs values for.
    pub fn secret_refs(&self) -> Vec<&str> {
        self.auth.secret_refs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_the_platform_cannot_take_is_refused_naming_the_shop() {
        let text = r#"{"shops": {"shop-a": {"platform": "woocommerce", "base_url": "https://s/wp-json/wc/v3",
            "auth": {"type": "basic", "username": "ck", "password_ref": "local:cs"},
            "on": {"dispatched": {"action": "fulfil"}}}}}"#;
        let err = ShopsFile::from_json(text).unwrap_err();
        assert!(err.starts_with("shops.shop-a: on.dispatched: "), "{err}");
        let registered = text.replace(
            r#""dispatched": {"action": "fulfil"}"#,
            r#""registered": {"action": "set_status", "status": "completed"}"#,
        );
        let err = ShopsFile::from_json(&registered).unwrap_err();
        assert!(err.contains("on.registered"), "{err}");
    }
}
