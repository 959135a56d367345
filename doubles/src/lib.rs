//! Local HTTP servers that behave like the systems orderflow talks to, for tests, the demo and
//! `orderflow erp-doubles`. One module per fake, one per authentication mode:
//!
//! - [`FakeBc`] ([`business_central`]), Dynamics 365 Business Central: `salesOrders` and
//!   `salesCreditMemos` (POST, and GET with `$filter`); an order with an unknown item number
//!   is refused with a business 400; `items` with `inventory`, paged ([`items`]). The same documents sit behind OAuth2 bearer tokens
//!   (`/api`), Basic (`/basic`), an API key (`/apikey`) and Digest (`/digest`): [`auth`].
//! - [`FakeSap`] ([`sap_b1`]), SAP Business One Service Layer: `Orders` and `CreditNotes`
//!   behind a `Login` session ([`auth::session`]); `Items` with `QuantityOnStock`, paged.
//! - [`FakeShopify`] ([`shopify`]), the Shopify GraphQL Admin API: orders by cursor pages,
//!   fulfillment orders, `fulfillmentCreate`, query cost and throttling.
//! - [`FakeWoo`] ([`woocommerce`]), the WooCommerce REST API v3: orders by page, status
//!   changes, order notes, products by SKU and in batches.
//! - [`FakePartner`] ([`partner`]), a B2B partner's purchase-order list paged by cursor, for
//!   the order poller's generic source.
//!
//! The ERP fakes store what they accept, so a test can assert one order in, one ERP record
//! out, and log every request. Queued [`Scripted`] answers take precedence on the document
//! endpoints. The shop doubles are seeded with orders ([`SeedOrder`]), keep what the client
//! changed for tests to read back, and take queued [`ShopFault`]s: a scripted answer, a 429
//! with `Retry-After`, no answer, or no answer after the change was made ([`shop`]).
//! They listen on an ephemeral port, or on a given one (`start_on`, as `orderflow erp-doubles`
//! does for the ERP fakes).

pub mod auth;
pub mod business_central;
pub mod items;
pub mod partner;
pub mod sap_b1;
mod server;
pub mod shop;
pub mod shopify;
pub mod woocommerce;

pub use auth::BcAuth;
pub use auth::api_key::API_KEY;
pub use auth::basic::{BASIC_PASSWORD, BASIC_USER};
pub use auth::digest::{DIGEST_PASSWORD, DIGEST_USER};
pub use auth::oauth2::{BC_CLIENT_ID, BC_CLIENT_SECRET, BC_TOKEN_LIFETIME};
pub use auth::session::{SAP_COMPANY, SAP_PASSWORD, SAP_SESSION_TIMEOUT, SAP_USER};
pub use business_central::{BcState, FakeBc};
pub use items::ErpItem;
pub use partner::{FakePartner, PARTNER_API_KEY};
pub use sap_b1::{FakeSap, SapState};
pub use server::{Logged, Running, Scripted};
pub use shop::{RunningShop, SeedOrder, ShopFault, ShopLogged};
pub use shopify::{
    FakeShopify, SHOPIFY_ACCESS_TOKEN, SHOPIFY_API_VERSION, SHOPIFY_BUCKET_SIZE, SHOPIFY_LOCATION,
    SHOPIFY_RESTORE_RATE, ShopifyFulfillment, ShopifyProduct, ShopifyVariant, Tracking,
};
pub use woocommerce::{FakeWoo, StatusChange, WOO_CONSUMER_KEY, WOO_CONSUMER_SECRET, WooNote};

/// Item numbers both fakes know: the SKUs of `events/orders/small-clp.xml`, then those of
/// `events/webhooks/standard-order-created.json`.
pub const KNOWN_ITEMS: [&str; 5] = ["DLA-CAFE-1000", "7801234567897", "PN-TE-07", "CAF-GRANO-1KG", "FILT-102"];
