use std::time::Duration;

use orderflow_doubles::{FakeWoo, SeedOrder, ShopFault, StatusChange, WOO_CONSUMER_KEY, WOO_CONSUMER_SECRET};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{client, clock, each, woo, woo_json};

fn seed(id: u64, modified: &str) -> SeedOrder {
    SeedOrder::new(id, modified).created_at("2026-03-01T08:00:00Z").customer("Ana", "Rojas", "ana@example.com").line(
        "CAF-GRANO-1KG",
        "Café en grano 1 kg",
        2,
        "12990.00",
    )
}

#[tokio::test]
async fn orders_page_with_totals_and_an_equal_modified_date_across_the_boundary_comes_back_once_each() {
    let fake = FakeWoo::start(clock()).await;
    fake.seed_order(&seed(1001, "2026-03-01T08:30:00Z"), "processing");
    fake.seed_order(&seed(1002, "2026-03-01T10:00:00Z"), "processing");
    fake.seed_order(&seed(1003, "2026-03-01T10:05:00Z"), "processing");
    fake.seed_order(&seed(1004, "2026-03-01T10:05:00Z"), "on-hold");
    fake.seed_order(&seed(1005, "2026-03-01T10:10:00Z"), "completed");
    let page = |n: u32| {
        let query = format!("modified_after=2026-03-01T09:00:00&orderby=modified&order=asc&per_page=2&page={n}");
        woo(&fake, Method::GET, &format!("/orders?{query}"))
    };

    let (status, headers, first) = woo_json(page(1)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-wp-total"], "4");
    assert_eq!(headers["x-wp-totalpages"], "2");
    let link = headers["link"].to_str().unwrap();
    assert!(link.contains("page=2>; rel=\"next\"") && !link.contains("prev"), "{link}");
    // The boundary falls between the two orders modified at 10:05.
    assert_eq!(first[1]["date_modified"], "2026-03-01T10:05:00");

    let (_, _, second) = woo_json(page(2)).await;
    let ids: Vec<&Value> = each(&first, "id").into_iter().chain(each(&second, "id")).collect();
    assert_eq!(ids, [&json!(1002), &json!(1003), &json!(1004), &json!(1005)]);

    let (_, _, past) = woo_json(page(3)).await;
    assert_eq!(past, json!([]), "past the last page: empty, as WooCommerce answers");
}

#[tokio::test]
async fn per_page_over_100_is_refused_as_wordpress_refuses_a_bad_argument() {
    let fake = FakeWoo::start(clock()).await;
    let request = woo(&fake, Method::GET, "/orders?per_page=101&order=up");
    let (status, _, body) = woo_json(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "rest_invalid_param");
    assert_eq!(body["message"], "Invalid parameter(s): per_page, order");
    assert_eq!(body["data"]["params"]["per_page"], "per_page must be between 1 (inclusive) and 100 (inclusive)");
    assert_eq!(body["data"]["params"]["order"], "order is not one of asc and desc.");
    assert_eq!(body["data"]["details"]["per_page"]["code"], "rest_out_of_bounds");

    let (status, _, body) = woo_json(woo(&fake, Method::GET, "/orders?search=ana")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an argument the double does not filter on is not ignored");
    assert_eq!(body["code"], "woocommerce_double_not_served");
}

#[tokio::test]
async fn orders_filter_by_status_and_by_modified_after_excluding_the_bound() {
    let fake = FakeWoo::start(clock()).await;
    fake.seed_order(&seed(1001, "2026-03-01T09:00:00Z"), "processing");
    fake.seed_order(&seed(1002, "2026-03-01T09:30:00Z"), "completed");
    fake.seed_order(&seed(1003, "2026-03-01T10:00:00Z"), "processing");
    fake.seed_order(&seed(1004, "2026-03-01T10:00:00Z"), "cancelled");

    let request = woo(&fake, Method::GET, "/orders?status=processing,completed");
    let (_, _, body) = woo_json(request).await;
    assert_eq!(each(&body, "id"), [&json!(1003), &json!(1002), &json!(1001)], "newest created first, by id");

    let query = "status=processing&modified_after=2026-03-01T09:00:00Z&orderby=id";
    let request = woo(&fake, Method::GET, &format!("/orders?{query}"));
    let (_, headers, body) = woo_json(request).await;
    assert_eq!(each(&body, "id"), [&json!(1003)], "09:00 itself is not after 09:00");
    assert_eq!(headers["x-wp-total"], "1");
    assert!(headers.get("link").is_none());

    let (status, _, body) = woo_json(woo(&fake, Method::GET, "/orders?status=shipped")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["data"]["params"]["status"].as_str().unwrap().starts_with("status[0] is not one of any, trash,"));
}

#[tokio::test]
async fn a_status_change_is_recorded_with_its_modified_date_and_note() {
    let clock = clock();
    let fake = FakeWoo::start(clock.clone()).await;
    let id = fake.seed_order(&seed(1001, "2026-03-01T09:00:00Z"), "processing");
    clock.advance(Duration::from_secs(90));

    let request = woo(&fake, Method::PUT, &format!("/orders/{id}")).json(&json!({"status": "completed"}));
    let (status, _, order) = woo_json(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["status"], "completed");
    assert_eq!(order["date_modified"], "2026-03-01T10:01:30");
    assert_eq!(order["date_completed_gmt"], "2026-03-01T10:01:30");
    assert_eq!(order["total"], "25980.00");
    assert_eq!(
        fake.status_changes(),
        [StatusChange { order_id: id, from: "processing".into(), to: "completed".into() }]
    );
    let notes = fake.notes();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].note, "Order status changed from Processing to Completed.");
    assert!(!notes[0].customer_note && !notes[0].added_by_user);
    assert_eq!(fake.orders()[0]["status"], "completed");

    let request = woo(&fake, Method::PUT, &format!("/orders/{id}")).json(&json!({"status": "shipped"}));
    let (status, _, body) = woo_json(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "rest_invalid_param");
    let (status, _, body) =
        woo_json(woo(&fake, Method::PUT, "/orders/999").json(&json!({"status": "completed"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "WooCommerce answers an unknown id on update with 400");
    assert_eq!(
        body,
        json!({"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 400}})
    );
    assert_eq!(fake.status_changes().len(), 1);
}

#[tokio::test]
async fn a_note_is_recorded_and_read_back_newest_first() {
    let fake = FakeWoo::start(clock()).await;
    let id = fake.seed_order(&seed(1001, "2026-03-01T09:00:00Z"), "processing");
    let post = |body: Value| woo(&fake, Method::POST, &format!("/orders/{id}/notes")).json(&body);

    let (status, headers, note) = woo_json(post(json!({"note": "Shipped: 1Z999", "customer_note": true}))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(headers["location"].to_str().unwrap().ends_with(&format!("/orders/{id}/notes/{}", note["id"])));
    assert_eq!(note["customer_note"], true);
    assert_eq!(note["author"], "system");
    woo_json(post(json!({"note": "Packed", "added_by_user": true}))).await;

    let (_, _, listed) = woo_json(woo(&fake, Method::GET, &format!("/orders/{id}/notes"))).await;
    assert_eq!(each(&listed, "note"), [&json!("Packed"), &json!("Shipped: 1Z999")]);
    assert_eq!(listed[0]["author"], "orderflow");
    let request = woo(&fake, Method::GET, &format!("/orders/{id}/notes?type=customer"));
    assert_eq!(each(&woo_json(request).await.2, "note"), [&json!("Shipped: 1Z999")]);
    let recorded = fake.notes();
    assert_eq!(recorded.len(), 2);
    assert!(recorded[0].customer_note && recorded[0].order_id == id);

    let (status, _, body) = woo_json(post(json!({"customer_note": true}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "rest_missing_callback_param");
    let request = woo(&fake, Method::POST, "/orders/999/notes").json(&json!({"note": "x"}));
    let (status, _, body) = woo_json(request).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "woocommerce_rest_order_invalid_id");
    assert_eq!(fake.notes().len(), 2);
}

#[tokio::test]
async fn auth_is_refused_with_woocommerces_status_and_body() {
    let fake = FakeWoo::start(clock()).await;
    let id = fake.seed_order(&seed(1001, "2026-03-01T09:00:00Z"), "processing");
    let url = format!("{}/orders", fake.base_url());

    let (status, _, body) = woo_json(client().get(&url)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.", "data": {"status": 401}})
    );

    let (status, headers, body) = woo_json(client().get(&url).basic_auth(WOO_CONSUMER_KEY, Some("cs_wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "woocommerce_rest_authentication_error");
    assert_eq!(body["message"], "Consumer secret is invalid.");
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Basic realm="));

    let unknown_key = client().put(format!("{url}/{id}")).basic_auth("ck_other", Some(WOO_CONSUMER_SECRET));
    let (status, _, body) = woo_json(unknown_key.json(&json!({"status": "completed"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "woocommerce_rest_cannot_edit", "an unknown key is anonymous");

    let by_query = client().get(format!("{url}?consumer_key={WOO_CONSUMER_KEY}&consumer_secret={WOO_CONSUMER_SECRET}"));
    let (status, _, body) = woo_json(by_query).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(each(&body, "id"), [&json!(id)]);
    assert!(fake.status_changes().is_empty());
}

#[tokio::test]
async fn scripted_5xx_and_429_are_answered_before_any_work() {
    let fake = FakeWoo::start(clock()).await;
    let id = fake.seed_order(&seed(1001, "2026-03-01T09:00:00Z"), "processing");
    let complete = || woo(&fake, Method::PUT, &format!("/orders/{id}")).json(&json!({"status": "completed"}));

    fake.script(ShopFault::Reply(502, json!({"message": "Bad gateway"})));
    fake.script(ShopFault::TooManyRequests { retry_after_secs: 30 });
    let (status, _, body) = woo_json(complete()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["message"], "Bad gateway");
    let (status, headers, body) = woo_json(complete()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "30");
    assert_eq!(body["data"]["status"], 429);
    assert!(fake.status_changes().is_empty());

    let (status, _, _) = woo_json(complete()).await;
    assert_eq!(status, StatusCode::OK, "the script is used up");
    let statuses: Vec<Option<u16>> = fake.log().iter().map(|l| l.status).collect();
    assert_eq!(statuses, [Some(502), Some(429), Some(200)]);
}

#[tokio::test]
async fn a_hang_after_work_times_the_client_out_with_the_status_changed() {
    let fake = FakeWoo::start(clock()).await;
    let id = fake.seed_order(&seed(1001, "2026-03-01T09:00:00Z"), "processing");
    let complete = || woo(&fake, Method::PUT, &format!("/orders/{id}")).json(&json!({"status": "completed"}));

    fake.script(ShopFault::Hang);
    assert!(complete().send().await.unwrap_err().is_timeout());
    assert!(fake.status_changes().is_empty(), "a plain hang does nothing");

    fake.script(ShopFault::HangAfterWork);
    assert!(complete().send().await.unwrap_err().is_timeout());
    assert_eq!(fake.status_changes().len(), 1, "the change landed");
    assert_eq!(fake.log().last().unwrap().status, None);

    // A retry finds the order completed and changes nothing more.
    let (status, _, order) = woo_json(complete()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["status"], "completed");
    assert_eq!(fake.status_changes().len(), 1);
}

#[tokio::test]
async fn products_are_found_by_sku_and_changed_in_batches_of_at_most_100() {
    let fake = FakeWoo::start(clock()).await;
    let id = fake.seed_product("CAF-GRANO-1KG", "Café en grano 1 kg", "12990", 5);
    fake.seed_product("FILT-102", "Filtros 102", "3490", 0);

    let (_, headers, found) = woo_json(woo(&fake, Method::GET, "/products?sku=CAF-GRANO-1KG")).await;
    assert_eq!(each(&found, "id"), [&json!(id)]);
    assert_eq!(headers["x-wp-total"], "1");

    let batch = json!({
        "update": [{"id": id, "stock_quantity": 0}, {"id": 424_242, "stock_quantity": 1}],
        "create": [{"sku": "FILT-102", "name": "Duplicate"}, {"sku": "PN-TE-07", "name": "Té", "regular_price": "4990"}],
    });
    let (status, _, done) = woo_json(woo(&fake, Method::POST, "/products/batch").json(&batch)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["update"][0]["stock_quantity"], 0);
    assert_eq!(done["update"][0]["stock_status"], "outofstock");
    assert_eq!(done["update"][1]["error"]["code"], "woocommerce_rest_product_invalid_id");
    assert_eq!(done["create"][0]["error"]["code"], "product_invalid_sku");
    assert_eq!(done["create"][1]["sku"], "PN-TE-07");
    let skus: Vec<Value> = fake.products().iter().map(|p| p["sku"].clone()).collect();
    assert_eq!(skus, [json!("CAF-GRANO-1KG"), json!("FILT-102"), json!("PN-TE-07")]);

    let too_many: Vec<Value> = (0..101).map(|n| json!({"id": id, "stock_quantity": n})).collect();
    let request = woo(&fake, Method::POST, "/products/batch").json(&json!({"update": too_many}));
    let (status, _, body) = woo_json(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "woocommerce_rest_request_entity_too_large");
    assert_eq!(fake.products()[0]["stock_quantity"], 0, "a refused batch changes nothing");
}
