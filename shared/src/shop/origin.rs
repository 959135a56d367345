//! Which shop an order came from, and its id there, read from the origin the order was stored
//! with: `webhook:<source>/order/<id>` (the webhook bridge) or `poll:<source>/order/<id>` (the
//! order poller). Orders from a UBL document carry their S3 key instead and have no shop.

/// A shop's order: the source name (the key of the shop's configuration) and the platform's
/// own order id (Shopify's numeric id, WooCommerce's post id, a partner's reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopOrderRef {
    pub source: String,
    pub order_id: String,
}

impl ShopOrderRef {
    /// `None` for an origin that is not a shop's order (an XML document, the API, a refund).
    pub fn from_origin(origin: &str) -> Option<Self> {
        let rest = origin.strip_prefix("webhook:").or_else(|| origin.strip_prefix("poll:"))?;
        let (source, order_id) = rest.split_once("/order/")?;
        let valid = |s: &str| !s.is_empty() && !s.contains('/') && !s.chars().any(char::is_control);
        (valid(source) && valid(order_id)).then(|| Self { source: source.to_owned(), order_id: order_id.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_doors_name_the_shop_and_its_order_id() {
        for origin in ["webhook:shopify/order/5500000001", "poll:shopify/order/5500000001"] {
            let found = ShopOrderRef::from_origin(origin).unwrap();
            assert_eq!((found.source.as_str(), found.order_id.as_str()), ("shopify", "5500000001"), "{origin}");
        }
    }

    #[test]
    fn other_origins_have_no_shop() {
        for origin in [
            "s3://orders-bucket/incoming/po-1.xml",
            "api",
            "webhook:woocommerce/refund/42/7",
            "webhook:/order/1",
            "webhook:shopify/order/",
            "poll:a/b/order/1",
        ] {
            assert_eq!(ShopOrderRef::from_origin(origin), None, "{origin}");
        }
    }
}
