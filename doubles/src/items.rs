//! The item catalogue both ERP fakes serve for catalogue sync (issue 18), read in pages:
//!
//! - Business Central API v2.0 `GET …/items`: each item with `number`, `displayName`,
//!   `unitPrice` and `inventory` (the item's stock, a field of the entity in v2.0), paged by
//!   the server with `@odata.nextLink` carrying a `$skiptoken`, as BC's server-driven paging
//!   does.
//! - SAP Business One Service Layer v1 `GET /Items`: `ItemCode`, `ItemName`, `QuantityOnStock`,
//!   `ItemPrices` and `ItemWarehouseInfoCollection`, paged by `Prefer: odata.maxpagesize=N`
//!   (default 20, as the Service Layer's) with an `odata.nextLink` relative to the root that
//!   carries `$skip`.
//!
//! Simplified: one price list (1) and one warehouse (`01`); `$select`, `$filter` and `$orderby`
//! are ignored (items come in item-number order, which is what makes skip tokens stable here).
//! Prices and stock are written as JSON numbers, as both ERPs do.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::server::json_response;

/// One item as the ERP holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErpItem {
    pub number: String,
    pub name: String,
    pub price: Decimal,
    pub stock: Decimal,
}

impl ErpItem {
    /// `price` and `stock` as decimal text, e.g. `"12.50"`, `"7"`.
    pub fn new(number: &str, name: &str, price: &str, stock: &str) -> Self {
        Self {
            number: number.to_owned(),
            name: name.to_owned(),
            price: Decimal::from_str(price).expect("a decimal price"),
            stock: Decimal::from_str(stock).expect("a decimal stock"),
        }
    }
}

/// The catalogue and how it is paged.
#[derive(Debug, Default)]
pub(crate) struct Catalogue {
    pub(crate) items: BTreeMap<String, ErpItem>,
    /// Business Central's server page size; 0 means its default.
    pub(crate) bc_page_size: usize,
}

/// Business Central's server-driven page size used when none was set.
const BC_DEFAULT_PAGE: usize = 1_000;
/// The Service Layer's default page size.
const SAP_DEFAULT_PAGE: usize = 20;

/// A JSON number written from a decimal's own digits, never through a float.
fn number(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).expect("a decimal is a JSON number")
}

fn page(catalogue: &Catalogue, skip: usize, size: usize) -> (Vec<&ErpItem>, bool) {
    let items: Vec<&ErpItem> = catalogue.items.values().skip(skip).take(size).collect();
    let more = skip + items.len() < catalogue.items.len();
    (items, more)
}

fn query(uri: &Uri) -> HashMap<String, String> {
    Query::try_from_uri(uri).map(|q| q.0).unwrap_or_default()
}

/// `GET …/items`; `url` is the request's absolute URL without its query.
pub(crate) fn business_central(catalogue: &Catalogue, url: &str, uri: &Uri) -> Response {
    let skip = query(uri).get("$skiptoken").and_then(|s| s.parse().ok()).unwrap_or(0);
    let size = if catalogue.bc_page_size == 0 { BC_DEFAULT_PAGE } else { catalogue.bc_page_size };
    let (items, more) = page(catalogue, skip, size);
    let value: Vec<Value> = items
        .iter()
        .map(|i| {
            json!({
                "id": format!("{:08x}-0000-0000-0000-000000000000", crc(&i.number)),
                "number": i.number,
                "displayName": i.name,
                "type": "Inventory",
                "blocked": false,
                "baseUnitOfMeasureCode": "PCS",
                "unitPrice": number(i.price),
                "inventory": number(i.stock),
            })
        })
        .collect();
    let mut body = json!({"@odata.context": format!("{url}/$metadata#items"), "value": value});
    if more {
        body["@odata.nextLink"] = json!(format!("{url}?$skiptoken={}", skip + items.len()));
    }
    json_response(StatusCode::OK, body)
}

/// `GET /b1s/v1/Items`.
pub(crate) fn sap(catalogue: &Catalogue, uri: &Uri, headers: &HeaderMap) -> Response {
    let skip = query(uri).get("$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let size = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix("odata.maxpagesize=").and_then(|n| n.parse().ok()))
        .unwrap_or(SAP_DEFAULT_PAGE);
    let (items, more) = page(catalogue, skip, size);
    let value: Vec<Value> = items
        .iter()
        .map(|i| {
            json!({
                "ItemCode": i.number,
                "ItemName": i.name,
                "Valid": "tYES",
                "QuantityOnStock": number(i.stock),
                "ItemPrices": [{"PriceList": 1, "Price": number(i.price), "Currency": "USD"}],
                "ItemWarehouseInfoCollection": [{"WarehouseCode": "01", "InStock": number(i.stock)}],
            })
        })
        .collect();
    let mut body = json!({"odata.metadata": "$metadata#Items", "value": value});
    if more {
        body["odata.nextLink"] = json!(format!("Items?$skip={}", skip + items.len()));
    }
    json_response(StatusCode::OK, body)
}

/// A short stable id for an item number (BC ids are GUIDs; only their stability matters here).
fn crc(text: &str) -> u32 {
    text.bytes().fold(2_166_136_261_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16_777_619))
}
