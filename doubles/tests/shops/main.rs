//! The shop doubles behave as Shopify's GraphQL Admin API and WooCommerce's REST API v3 do for
//! the subsets shop sync will use: paging, filters, the changes they record, their refusals,
//! and the faults a test scripts. One test binary for both, to link once.

mod helpers;
mod shopify;
mod shopify_catalog;
mod woocommerce;
