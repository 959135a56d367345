//! The broadcast recovery workflow, one file in three settings:
//! - in moto's Step Functions interpreter, its Lambda tasks answered with canned results;
//! - in the embedded interpreter, its tasks the real handlers against DynamoDB in moto;
//! - entered from the state router, which answers 202 once the workflow took over.
//!
//! Only this test binary queues canned Lambda results, which moto keeps in one global FIFO.

use std::time::Duration;

use crate::recovery_helpers::*;
use aws_sdk_sfn::types::ExecutionStatus;
use error_handler::local::LocalTasks;
use orderflow_e2e::apigw::{Call, parts};
use orderflow_e2e::{moto_endpoint, repo_path, sdk_config, unique};
use orderflow_shared::asl::{self, SkipSleeper, Status};
use orderflow_shared::dte::{Failure, Operation};
use orderflow_shared::lifecycle::State;
use orderflow_shared::order::OrderKey;
use serde_json::{Value, json};

const LOOP: [&str; 5] = ["RecordFailure", "ShouldRetry", "Backoff", "RetryBroadcast", "Broadcasted"];
const GIVE_UP: [&str; 2] = ["GiveUp", "BroadcastFailed"];

fn retry_then_success_path() -> Vec<&'static str> {
    LOOP.iter().chain(&["NextFailure"]).chain(&LOOP).chain(&["Recovered"]).copied().collect()
}

fn exhausted_path() -> Vec<&'static str> {
    let mut path: Vec<&str> =
        LOOP.iter().chain(&["NextFailure"]).chain(&LOOP).chain(&["NextFailure"]).copied().collect();
    path.extend(["RecordFailure", "ShouldRetry"]);
    path.extend(GIVE_UP);
    path
}

fn permanent_path() -> Vec<&'static str> {
    ["RecordFailure", "ShouldRetry"].into_iter().chain(GIVE_UP).collect()
}

// --- the embedded interpreter with the real task handlers ---------------------------------------

/// Broadcasts through the router (which hands over), then runs the workflow it started.
async fn recover(h: &Harness, key: &OrderKey) -> asl::Execution {
    let path = format!("/orders/{key}/broadcast-dte");
    let call = Call { method: "POST", path: &path, query: &[], headers: &[], body: None };
    let (status, body) = parts(state_router::handle(&h.deps.service, call.request()).await.unwrap());
    assert_eq!((status, body["state"].as_str()), (202, Some("error")), "the router hands over: {body}");
    let mut runs = h.recovery.run_pending(&LocalTasks::new(&h.deps, 11), &SkipSleeper::default()).await;
    assert_eq!(runs.len(), 1, "one execution per failed broadcast");
    let (name, execution) = runs.remove(0);
    assert_eq!(name, format!("{key}-a1"));
    execution
}

#[tokio::test]
async fn embedded_a_broadcast_that_fails_twice_then_passes_recovers() {
    let h = harness(5).await;
    let key = issued(&h, order_numbered("REC-FLAKY")).await;
    h.dte.fail_order(&key, Operation::Broadcast, Failure::Transient, Some(2));
    let run = recover(&h, &key).await;
    assert_eq!((run.status, run.path.clone()), (Status::Succeeded, str_vec(&retry_then_success_path())), "{run:?}");
    let order = h.deps.service.get(&key).await.unwrap();
    assert_eq!(order.state, State::BroadcastDte);
    assert!(order.dte.track_id.is_some());
    assert_eq!(h.dte.calls(Operation::Broadcast), 3);
    assert!(h.deps.mailer.sent.lock().unwrap().is_empty(), "no alert when recovery worked");
}

#[tokio::test]
async fn embedded_a_broadcast_that_keeps_failing_ends_broadcast_failed_with_an_alert() {
    let h = harness(3).await;
    let key = issued(&h, order_numbered("REC-DOWN")).await;
    h.dte.fail_order(&key, Operation::Broadcast, Failure::Transient, None);
    let run = recover(&h, &key).await;
    assert_eq!((run.status, run.path.clone()), (Status::Failed, str_vec(&exhausted_path())), "{run:?}");
    assert_eq!(run.error.as_deref(), Some("BroadcastFailed"));
    assert_eq!(h.dte.calls(Operation::Broadcast), 3, "BROADCAST_MAX_ATTEMPTS counts the router's try");
    assert_broadcast_failed_and_alerted(&h, &key).await;
}

#[tokio::test]
async fn embedded_a_permanent_refusal_is_not_retried() {
    let h = harness(5).await;
    let key = issued(&h, order_numbered("REC-REFUSED")).await;
    h.dte.fail_order(&key, Operation::Broadcast, Failure::Permanent, Some(1));
    let run = recover(&h, &key).await;
    assert_eq!((run.status, run.path.clone()), (Status::Failed, str_vec(&permanent_path())), "{run:?}");
    assert_eq!(h.dte.calls(Operation::Broadcast), 1);
    assert_broadcast_failed_and_alerted(&h, &key).await;
}

async fn assert_broadcast_failed_and_alerted(h: &Harness, key: &OrderKey) {
    let order = h.deps.service.get(key).await.unwrap();
    assert_eq!(order.state, State::BroadcastFailed);
    let sent = h.deps.mailer.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to.as_str(), "ops@example.com");
    assert!(sent[0].subject.contains(key.as_str()), "{}", sent[0].subject);
}

fn str_vec(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| (*s).to_owned()).collect()
}

// --- moto's Step Functions interpreter with canned Lambda results --------------------------------

const ACCOUNT: &str = "123456789012";

async fn moto_api(path: &str, body: Value) {
    let response = orderflow_e2e::http().post(format!("{}{path}", moto_endpoint())).json(&body).send().await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
}

/// Queues what the next Lambda invocations answer, in order.
async fn canned(results: &[Value]) {
    let results: Vec<String> = results.iter().map(Value::to_string).collect();
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-west-2".into());
    moto_api(
        "/moto-api/static/lambda-simple/response",
        json!({"account_id": ACCOUNT, "region": region, "results": results}),
    )
    .await;
}

fn failure(key: &str, code: &str, retryable: bool, attempt: u32) -> Value {
    json!({"order_key": key, "stage": "broadcast_dte", "code": code, "message": "m", "retryable": retryable, "attempt": attempt})
}

fn decide(retryable: bool, attempt: u32) -> Value {
    json!({"retryable": retryable, "wait_seconds": if retryable { 1 } else { 0 }, "attempt": attempt})
}

/// Runs one execution to its end; returns its status and the states it entered.
async fn execute(sfn: &aws_sdk_sfn::Client, machine: &str, key: &str) -> (ExecutionStatus, Vec<String>) {
    let input = json!({"error": failure(key, "provider_unavailable", true, 1)});
    let started = sfn
        .start_execution()
        .state_machine_arn(machine)
        .name(format!("{key}-a1"))
        .input(input.to_string())
        .send()
        .await
        .expect("start execution");
    let arn = started.execution_arn();
    let mut status = ExecutionStatus::Running;
    for _ in 0..300 {
        status = sfn.describe_execution().execution_arn(arn).send().await.unwrap().status().clone();
        if status != ExecutionStatus::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let history = sfn.get_execution_history().execution_arn(arn).max_results(1000).send().await.unwrap();
    let path =
        history.events().iter().filter_map(|e| e.state_entered_event_details().map(|d| d.name().to_owned())).collect();
    (status, path)
}

#[tokio::test]
async fn moto_runs_the_deployed_definition_through_all_three_paths() {
    let sdk = sdk_config().await;
    // The interpreter must be on before the state machine is created; Lambda tasks then answer
    // from the canned results instead of running code.
    moto_api(
        "/moto-api/config",
        json!({"stepfunctions": {"execute_state_machine": true}, "lambda": {"use_docker": false}}),
    )
    .await;
    let function = |name: &str| format!("arn:aws:lambda:us-west-2:{ACCOUNT}:function:{}", unique(name));
    let (error_handler, retry) = (function("error-handler"), function("broadcast-retry"));
    let text = std::fs::read_to_string(repo_path("statemachines/broadcast-recovery.asl.json")).unwrap();
    let definition =
        text.replace("${ErrorHandlerFunctionArn}", &error_handler).replace("${BroadcastRetryFunctionArn}", &retry);
    let sfn = aws_sdk_sfn::Client::new(&sdk);
    let machine = sfn
        .create_state_machine()
        .name(unique("broadcast-recovery"))
        .definition(definition)
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/broadcast-recovery"))
        .send()
        .await
        .expect("create state machine")
        .state_machine_arn()
        .to_owned();

    // The cases share moto's one queue of canned results, so they run one after the other.
    let key = order_numbered("SFN-FLAKY").order_key.to_string();
    canned(&[
        decide(true, 2),
        json!({"succeeded": false, "error": failure(&key, "provider_unavailable", true, 2)}),
        decide(true, 3),
        json!({"succeeded": true, "state": "broadcast_dte", "track_id": "T-1"}),
    ])
    .await;
    let (status, path) = execute(&sfn, &machine, &key).await;
    assert_eq!((status, path), (ExecutionStatus::Succeeded, str_vec(&retry_then_success_path())), "retry then success");

    let key = order_numbered("SFN-DOWN").order_key.to_string();
    canned(&[
        decide(true, 2),
        json!({"succeeded": false, "error": failure(&key, "timeout", true, 2)}),
        decide(true, 3),
        json!({"succeeded": false, "error": failure(&key, "timeout", true, 3)}),
        decide(false, 3),
        json!({"state": "broadcast_failed", "alert_message_id": "m-1"}),
    ])
    .await;
    let (status, path) = execute(&sfn, &machine, &key).await;
    assert_eq!((status, path), (ExecutionStatus::Failed, str_vec(&exhausted_path())), "retries exhausted");

    let key = order_numbered("SFN-REFUSED").order_key.to_string();
    canned(&[decide(false, 1), json!({"state": "broadcast_failed", "alert_message_id": "m-2"})]).await;
    let (status, path) = execute(&sfn, &machine, &key).await;
    assert_eq!((status, path), (ExecutionStatus::Failed, str_vec(&permanent_path())), "permanent error");
}
