//! The Orders API handler, fed API Gateway proxy events, against DynamoDB and SQS in moto.

use orderflow_e2e::apigw::{Call, parts};
use orderflow_e2e::dynamo::create_orders_table;
use orderflow_e2e::*;
use orderflow_shared::adapters::aws::{self, DynamoOrderStore, SqsFifoQueue, dynamodb_client};
use orderflow_shared::adapters::embedded::EmbeddedRecovery;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::dte::{Failure, Operation, SimulatedDteProvider};
use orderflow_shared::lifecycle::{Stage, State, allowed};
use orderflow_shared::order::{CanonicalOrder, OrderKey};
use orderflow_shared::order_service::OrderService;
use serde_json::Value;

type Service = OrderService<DynamoOrderStore, SqsFifoQueue, SimulatedDteProvider, EmbeddedRecovery>;

struct Api {
    service: Service,
    sqs: aws_sdk_sqs::Client,
}

async fn api() -> Api {
    let sdk = sdk_config().await;
    let dynamo = dynamodb_client(&sdk);
    let table = unique("orders");
    create_orders_table(&dynamo, &table).await;
    let sqs = aws::sqs_client(&sdk);
    let (queue_url, _) = create_fifo_with_dlq(&sqs, &unique("orders"), 10).await;
    let service = OrderService {
        store: DynamoOrderStore::new(dynamo, &table),
        queue: SqsFifoQueue::new(sqs.clone(), &queue_url),
        dte: SimulatedDteProvider::default(),
        recovery: EmbeddedRecovery::new().expect("recovery definition"),
    };
    Api { service, sqs }
}

impl Api {
    async fn call(&self, call: Call<'_>) -> (u16, Value) {
        parts(state_router::handle(&self.service, call.request()).await.expect("handler answers"))
    }

    async fn post_order(&self, order: &CanonicalOrder) -> (u16, Value) {
        self.call(Call::post_json("/orders", &serde_json::to_string(order).unwrap())).await
    }

    async fn stage(&self, key: &OrderKey, stage: Stage) -> (u16, Value) {
        let path = format!("/orders/{key}/{}", stage.route());
        self.call(Call { method: "POST", path: &path, query: &[], headers: &[], body: None }).await
    }

    async fn commands(&self) -> Vec<OrderCommand> {
        drain(&self.sqs, self.service.queue.url())
            .await
            .iter()
            .map(|m| serde_json::from_str(&m.body).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn post_order_returns_201_then_200_for_the_same_content() {
    let api = api().await;
    let order = sample_order();
    let (status, body) = api.post_order(&order).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["state"], "registered");
    assert_eq!(body["version"], 1);
    assert_eq!(body["history"].as_array().unwrap().len(), 2);

    let (status, body) = api.post_order(&order).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicate"], true);

    let commands = api.commands().await;
    let expected = OrderCommand::Stage { order_key: order.order_key.clone(), stage: Stage::IssuanceDte, attempt: 0 };
    assert_eq!(commands, [expected], "one next command despite the duplicate");
}

#[tokio::test]
async fn post_order_returns_409_when_content_differs_and_records_the_conflict() {
    let api = api().await;
    let order = sample_order();
    api.post_order(&order).await;
    let mut changed = order.clone();
    changed.lines[0].name = "Otro producto".into();
    let (status, body) = api.post_order(&changed).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");

    let (_, stored) = api.call(Call::get(&format!("/orders/{}", order.order_key))).await;
    let kinds: Vec<&str> = stored["history"].as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.last(), Some(&"conflict"));
    assert_eq!(stored["order"]["lines"][0]["name"], order.lines[0].name.as_str(), "stored content unchanged");
}

#[tokio::test]
async fn unknown_orders_and_routes_are_404_and_bad_keys_400() {
    let api = api().await;
    let missing = order_numbered("NOPE").order_key;
    assert_eq!(api.call(Call::get(&format!("/orders/{missing}"))).await.0, 404);
    assert_eq!(api.stage(&missing, Stage::Dispatch).await.0, 404);
    assert_eq!(api.call(Call::get("/orders/..%2Fetc")).await.0, 400);
    assert_eq!(api.call(Call::get("/nowhere")).await.0, 404);
}

/// Drives a fresh order to `state` through the API.
async fn order_in(api: &Api, state: State, number: &str) -> OrderKey {
    let order = order_numbered(number);
    assert_eq!(api.post_order(&order).await.0, 201);
    let path: &[Stage] = match state {
        State::Registered => &[],
        State::IssuanceDte => &[Stage::IssuanceDte],
        State::BroadcastDte => &[Stage::IssuanceDte, Stage::BroadcastDte],
        State::Dispatched => &[Stage::IssuanceDte, Stage::BroadcastDte, Stage::Dispatch],
        State::Delivered => &[Stage::IssuanceDte, Stage::BroadcastDte, Stage::Dispatch, Stage::Deliver],
        State::Cancelled => &[Stage::Cancel],
        State::Refunded => &[Stage::IssuanceDte, Stage::Refund],
        other => panic!("no API path to {other}"),
    };
    for stage in path {
        let (status, body) = api.stage(&order.order_key, *stage).await;
        assert_eq!(status, 200, "{stage:?}: {body}");
    }
    order.order_key
}

#[tokio::test]
async fn every_stage_from_every_reachable_state_follows_the_transition_table() {
    let api = api().await;
    let states = [
        State::Registered,
        State::IssuanceDte,
        State::BroadcastDte,
        State::Dispatched,
        State::Delivered,
        State::Cancelled,
        State::Refunded,
    ];
    for (i, from) in states.into_iter().enumerate() {
        for (j, stage) in Stage::ALL.into_iter().enumerate() {
            let key = order_in(&api, from, &format!("T-{i}-{j}")).await;
            let target = stage.target();
            let (_, before) = api.call(Call::get(&format!("/orders/{key}"))).await;
            // A command the order has already passed (its history has the transition) is a late
            // duplicate: acknowledged, nothing changes.
            let passed = before["history"].as_array().unwrap().iter().any(|h| h["to"] == target.as_str());
            let (status, body) = api.stage(&key, stage).await;
            if from == target || passed {
                assert_eq!((status, &body["duplicate"]), (200, &Value::Bool(true)), "{from} --{stage:?}: {body}");
                assert_eq!(body["order"]["version"], before["version"], "{from} --{stage:?}: nothing changed");
            } else if allowed(from, target) {
                assert_eq!(status, 200, "{from} --{stage:?}: {body}");
                assert_eq!(body["state"], target.as_str());
                let last = body["history"].as_array().unwrap().last().unwrap().clone();
                assert_eq!((last["from"].as_str(), last["to"].as_str()), (Some(from.as_str()), Some(target.as_str())));
            } else {
                assert_eq!(status, 409, "{from} --{stage:?}: {body}");
                assert_eq!(body["error"]["code"], "illegal_transition");
                assert_eq!(body["error"]["current_state"], from.as_str());
            }
        }
    }
}

#[tokio::test]
async fn issuance_and_broadcast_record_the_folio_and_track_id_and_queue_the_next_stage() {
    let api = api().await;
    let key = order_in(&api, State::Registered, "DTE-1").await;
    api.commands().await;
    let (_, issued) = api.stage(&key, Stage::IssuanceDte).await;
    assert!(issued["dte"]["folio"].as_str().is_some_and(|f| !f.is_empty()), "{issued}");
    let next = OrderCommand::Stage { order_key: key.clone(), stage: Stage::BroadcastDte, attempt: 0 };
    assert_eq!(api.commands().await, [next]);
    let (_, sent) = api.stage(&key, Stage::BroadcastDte).await;
    assert!(sent["dte"]["track_id"].as_str().is_some_and(|t| !t.is_empty()), "{sent}");
    assert!(api.commands().await.is_empty(), "fulfilment is not queued automatically");
}

#[tokio::test]
async fn a_dispatch_keeps_the_parcels_tracking_for_the_shop_and_refuses_forged_lines() {
    let api = api().await;
    let key = order_in(&api, State::BroadcastDte, "TRK-1").await;
    let path = format!("/orders/{key}/dispatch");
    let forged = r#"{"tracking": {"number": "1Z9\nforged history line"}}"#;
    let (status, body) = api.call(Call::post_json(&path, forged)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_body")), "{body}");
    let unknown = r#"{"tracking": {"numbr": "1Z9"}}"#;
    assert_eq!(api.call(Call::post_json(&path, unknown)).await.0, 400, "a misspelt field is refused, not dropped");
    let tracking =
        r#"{"tracking": {"number": "1Z999AA10123456784", "url": "https://track.example/1Z9", "company": "UPS"}}"#;
    let (status, body) = api.call(Call::post_json(&path, tracking)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tracking"]["number"], "1Z999AA10123456784");
    assert_eq!(body["tracking"]["company"], "UPS");
    let last = body["history"].as_array().unwrap().last().unwrap().clone();
    assert!(last["detail"].as_str().unwrap().ends_with("tracking 1Z999AA10123456784"), "{last}");
    // Without a body (the warehouse knows no tracking), a dispatch still goes through.
    let other = order_in(&api, State::BroadcastDte, "TRK-2").await;
    let (status, body) = api.stage(&other, Stage::Dispatch).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("tracking").is_none(), "{body}");
}

#[tokio::test]
async fn two_concurrent_transitions_have_exactly_one_winner() {
    let api = api().await;
    for round in 0..3 {
        let key = order_in(&api, State::BroadcastDte, &format!("RACE-{round}")).await;
        let (a, b) = tokio::join!(api.stage(&key, Stage::Dispatch), api.stage(&key, Stage::Cancel));
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: {a:?} {b:?}");
        let (_, stored) = api.call(Call::get(&format!("/orders/{key}"))).await;
        let transitions = stored["history"].as_array().unwrap().iter().filter(|h| h["kind"] == "transition").count();
        assert_eq!(transitions, 5, "received, registered, issuance, broadcast, and one winner");
    }
}

#[tokio::test]
async fn dte_failures_are_503_when_transient_and_422_with_an_error_record_when_permanent() {
    let api = api().await;
    let flaky = order_in(&api, State::Registered, "FLAKY").await;
    api.service.dte.fail_order(&flaky, Operation::Issue, Failure::Transient, Some(1));
    assert_eq!(api.stage(&flaky, Stage::IssuanceDte).await.0, 503);
    let (_, stored) = api.call(Call::get(&format!("/orders/{flaky}"))).await;
    assert_eq!(stored["state"], "registered", "a transient failure changes nothing");
    assert_eq!(api.stage(&flaky, Stage::IssuanceDte).await.0, 200, "the retry passes");

    let refused = order_in(&api, State::Registered, "REFUSED").await;
    api.service.dte.fail_order(&refused, Operation::Issue, Failure::Permanent, Some(1));
    let (status, body) = api.stage(&refused, Stage::IssuanceDte).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["order"]["state"], "error");
    assert_eq!(body["order"]["last_error"]["stage"], "issuance_dte");
    assert_eq!(api.stage(&refused, Stage::Dispatch).await.0, 409, "error resumes only at the failed stage");
    let (status, body) = api.stage(&refused, Stage::IssuanceDte).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("issuance_dte")), "{body}");
}

#[tokio::test]
async fn listing_by_state_pages_newest_first_without_gaps() {
    let api = api().await;
    let mut keys = Vec::new();
    for i in 0..5 {
        keys.push(order_in(&api, State::Registered, &format!("PAGE-{i}")).await.to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("state", "registered"), ("limit", "2")];
        if let Some(c) = &cursor {
            query.push(("cursor", c));
        }
        let (status, page) =
            api.call(Call { method: "GET", path: "/orders", query: &query, headers: &[], body: None }).await;
        assert_eq!(status, 200, "{page}");
        let orders = page["orders"].as_array().unwrap();
        assert!(orders.len() <= 2);
        seen.extend(orders.iter().map(|o| o["key"].as_str().unwrap().to_owned()));
        match page["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    keys.reverse();
    assert_eq!(seen, keys, "newest first, each once");

    let bad = [("state", "registered"), ("cursor", "not-a-cursor")];
    assert_eq!(api.call(Call { method: "GET", path: "/orders", query: &bad, headers: &[], body: None }).await.0, 400);
    let unknown = [("state", "shipped")];
    assert_eq!(
        api.call(Call { method: "GET", path: "/orders", query: &unknown, headers: &[], body: None }).await.0,
        400
    );
}

#[tokio::test]
async fn stats_count_orders_per_state_with_the_oldest() {
    let api = api().await;
    let first = order_in(&api, State::Registered, "S-1").await;
    order_in(&api, State::Registered, "S-2").await;
    order_in(&api, State::IssuanceDte, "S-3").await;
    let (status, body) = api.call(Call::get("/stats")).await;
    assert_eq!(status, 200);
    let states = body["states"].as_array().unwrap();
    let of = |s: &str| states.iter().find(|x| x["state"] == s).unwrap().clone();
    assert_eq!(of("registered")["count"], 2);
    assert_eq!(of("registered")["oldest"][0], first.as_str());
    assert_eq!(of("issuance_dte")["count"], 1);
    assert_eq!(of("cancelled")["count"], 0);
}
