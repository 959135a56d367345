//! POST /errors and the error handler's event dispatch, against DynamoDB and SQS in moto.

use crate::recovery_helpers::*;
use orderflow_e2e::apigw::{Call, parts};
use orderflow_e2e::repo_path;
use serde_json::{Value, json};

async fn post(h: &Harness, body: &str) -> (u16, Value) {
    parts(error_handler::api::handle(&h.deps.service, Call::post_json("/errors", body).request()).await)
}

fn report(key: &str, code: &str, attempt: u32) -> String {
    json!({"order_key": key, "stage": "broadcast_dte", "code": code, "message": "provider down",
           "retryable": true, "attempt": attempt})
    .to_string()
}

#[tokio::test]
async fn post_error_returns_200_with_the_order_in_error_and_the_error_in_its_history() {
    let h = harness(5).await;
    let key = issued(&h, order_numbered("ERR-OK")).await;
    let (status, body) = post(&h, &report(key.as_str(), "provider_unavailable", 1)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "error");
    assert_eq!(body["last_error"]["stage"], "broadcast_dte");
    assert_eq!(body["last_error"]["code"], "provider_unavailable");
    let last = body["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["from"].as_str(), last["to"].as_str()), (Some("issuance_dte"), Some("error")), "{last}");

    let (status, again) = post(&h, &report(key.as_str(), "provider_unavailable", 1)).await;
    assert_eq!((status, &again["version"]), (200, &body["version"]), "the same report again changes nothing");
    let (_, next) = post(&h, &report(key.as_str(), "timeout", 2)).await;
    assert_eq!(next["last_error"]["attempt"], 2);
    assert_eq!(next["history"].as_array().unwrap().last().unwrap()["kind"], "error", "appended while in error");
}

#[tokio::test]
async fn post_error_returns_404_for_an_unknown_order() {
    let h = harness(5).await;
    let missing = order_numbered("ERR-MISSING").order_key;
    let (status, body) = post(&h, &report(missing.as_str(), "timeout", 1)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
}

#[tokio::test]
async fn concurrent_reports_are_all_kept_because_writes_are_conditional() {
    let h = harness(5).await;
    let key = issued(&h, order_numbered("ERR-RACE")).await;
    let bodies: Vec<String> = (1..=4).map(|n| report(key.as_str(), &format!("code_{n}"), n)).collect();
    let answers = futures_join(bodies.iter().map(|b| post(&h, b))).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let stored = h.deps.service.get(&key).await.unwrap();
    let errors: Vec<&str> =
        stored.history.iter().filter(|e| e.detail.contains("code_")).map(|e| e.detail.as_str()).collect();
    assert_eq!(errors.len(), 4, "no report lost to a race: {errors:?}");
}

/// Runs futures concurrently on this task, without a dependency for `join_all`.
async fn futures_join<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let set: Vec<_> = futures.map(Box::pin).collect();
    let mut pending: Vec<_> = set.into_iter().map(Some).collect();
    let mut out: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (slot, fut) in out.iter_mut().zip(pending.iter_mut()) {
            if let Some(f) = fut
                && let std::task::Poll::Ready(v) = f.as_mut().poll(cx)
            {
                *slot = Some(v);
                *fut = None;
            }
        }
        if pending.iter().all(Option::is_none) { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn the_event_files_drive_the_api_and_both_tasks() {
    let h = harness(5).await;
    let key = issued(&h, sample_order()).await;
    let event = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(repo_path(&format!("events/{name}"))).unwrap()).unwrap()
    };

    let decision = error_handler::dispatch(&h.deps, event("error-handler-sfn-task.json")).await.unwrap();
    assert_eq!((decision["retryable"].as_bool(), decision["attempt"].as_u64()), (Some(true), Some(2)), "{decision}");
    let input = serde_json::from_value(event("broadcast-retry-sfn-task.json")).unwrap();
    let outcome = error_handler::task::retry_broadcast(&h.deps.service, input).await.unwrap().to_json();
    assert_eq!(
        (outcome["succeeded"].as_bool(), outcome["state"].as_str()),
        (Some(true), Some("broadcast_dte")),
        "{outcome}"
    );

    let response = error_handler::dispatch(&h.deps, event("error-handler-post-error.json")).await.unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    let order: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!((order["key"].as_str(), order["state"].as_str()), (Some(key.as_str()), Some("error")));
}
