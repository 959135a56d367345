//! Runs a [`Definition`] the way Step Functions would, for the supported subset.

use serde_json::{Map, Value};

use super::definition::{Catcher, Definition, Pass, Retrier, Rule, State, Task};
use super::{Sleeper, TaskFailure, TaskInvoker, path};

/// A cycle that never reaches a terminal state is a bug in the definition, not a long run.
const MAX_TRANSITIONS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Succeeded,
    Failed,
}

/// How an execution ended and the states it entered, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub status: Status,
    pub path: Vec<String>,
    /// The final output when it succeeded.
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

pub async fn run<I: TaskInvoker, W: Sleeper>(
    definition: &Definition,
    input: Value,
    tasks: &I,
    sleeper: &W,
) -> Execution {
    let mut visited = Vec::new();
    let mut name = definition.start_at.clone();
    let mut data = input;
    let failed = |path: Vec<String>, error: &str, cause: String| Execution {
        status: Status::Failed,
        path,
        output: None,
        error: Some(error.to_owned()),
        cause: Some(cause),
    };
    for _ in 0..MAX_TRANSITIONS {
        visited.push(name.clone());
        // `Definition::parse` checked every transition, so the state exists.
        let state = &definition.states[&name];
        let step = match state {
            State::Succeed(_) => {
                return Execution {
                    status: Status::Succeeded,
                    path: visited,
                    output: Some(data),
                    error: None,
                    cause: None,
                };
            }
            State::Fail(f) => return failed(visited, &f.error, f.cause.clone()),
            State::Task(task) => run_task(task, data, tasks, sleeper).await,
            State::Choice(choice) => {
                let next = choice.choices.iter().find(|r| matches(r, &data)).map_or(&choice.default, |r| &r.next);
                Ok((next.clone(), data))
            }
            State::Wait(wait) => {
                let seconds = match (&wait.seconds, &wait.seconds_path) {
                    (Some(s), _) => Some(*s),
                    (None, Some(p)) => read(&data, p).and_then(Value::as_u64),
                    (None, None) => None,
                };
                match seconds {
                    Some(s) => {
                        sleeper.sleep(s).await;
                        Ok((wait.next.clone(), data))
                    }
                    None => Err(TaskFailure {
                        error: "States.Runtime".into(),
                        cause: format!("state {name}: no whole number of seconds to wait"),
                    }),
                }
            }
            State::Pass(pass) => Ok((pass.next.clone(), run_pass(pass, data))),
        };
        match step {
            Ok((next, output)) => {
                name = next;
                data = output;
            }
            Err(failure) => return failed(visited, &failure.error, failure.cause),
        }
    }
    failed(visited, "States.Runtime", format!("more than {MAX_TRANSITIONS} transitions"))
}

async fn run_task<I: TaskInvoker, W: Sleeper>(
    task: &Task,
    data: Value,
    tasks: &I,
    sleeper: &W,
) -> Result<(String, Value), TaskFailure> {
    let input = task.parameters.as_ref().map_or_else(|| data.clone(), |p| parameters(p, &data));
    let mut tries: Vec<u32> = vec![0; task.retry.len()];
    loop {
        let failure = match tasks.invoke(&task.resource, input.clone()).await {
            Ok(result) => return Ok((task.next.clone(), place(data, task.result_path.as_deref(), result))),
            Err(failure) => failure,
        };
        // The first retrier whose list names the error decides, as in Step Functions.
        match task.retry.iter().position(|r| names(&r.error_equals, &failure.error)) {
            Some(i) if tries[i] < task.retry[i].max_attempts => {
                sleeper.sleep(interval(&task.retry[i], tries[i])).await;
                tries[i] += 1;
            }
            _ => return catch(&task.catch, data, failure),
        }
    }
}

fn interval(retrier: &Retrier, done: u32) -> u64 {
    let factor = retrier.backoff_rate.powi(i32::try_from(done).unwrap_or(i32::MAX));
    // Step Functions caps a retry interval at one year; seconds as f64 are exact far beyond it.
    (retrier.interval_seconds as f64 * factor).min(31_536_000.0) as u64
}

fn catch(catchers: &[Catcher], data: Value, failure: TaskFailure) -> Result<(String, Value), TaskFailure> {
    let Some(catcher) = catchers.iter().find(|c| names(&c.error_equals, &failure.error)) else {
        return Err(failure);
    };
    let info = serde_json::json!({"Error": failure.error, "Cause": failure.cause});
    Ok((catcher.next.clone(), place(data, catcher.result_path.as_deref(), info)))
}

fn names(error_equals: &[String], error: &str) -> bool {
    error_equals
        .iter()
        .any(|e| e == error || e == "States.ALL" || (e == "States.TaskFailed" && error != "States.Timeout"))
}

fn run_pass(pass: &Pass, data: Value) -> Value {
    let effective = pass
        .input_path
        .as_deref()
        .map_or(Value::Object(Map::new()), |p| read(&data, p).cloned().unwrap_or(Value::Null));
    let result = match (&pass.result, &pass.parameters) {
        (Some(result), _) => result.clone(),
        (None, Some(template)) => parameters(template, &effective),
        (None, None) => effective,
    };
    place(data, pass.result_path.as_deref(), result)
}

fn matches(rule: &Rule, data: &Value) -> bool {
    let Some(value) = read(data, &rule.variable) else {
        return false;
    };
    rule.boolean_equals.is_some_and(|b| value.as_bool() == Some(b))
        || rule.string_equals.as_deref().is_some_and(|s| value.as_str() == Some(s))
        || rule.numeric_equals.is_some_and(|n| value.as_f64() == Some(n))
}

/// A Parameters template: `"key.$": "$.path"` takes the value from the input, the rest is literal.
fn parameters(template: &Value, input: &Value) -> Value {
    match template {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| match (key.strip_suffix(".$"), value) {
                    (Some(field), Value::String(p)) => {
                        (field.to_owned(), read(input, p).cloned().unwrap_or(Value::Null))
                    }
                    _ => (key.clone(), parameters(value, input)),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn read<'a>(data: &'a Value, p: &str) -> Option<&'a Value> {
    path::get(data, &path::parse(p)?)
}

/// ResultPath: `None` (JSON null) keeps the input as it was.
fn place(data: Value, result_path: Option<&str>, result: Value) -> Value {
    match result_path.and_then(path::parse) {
        Some(fields) => path::set(data, &fields, result),
        None => data,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;
    use crate::asl::{BROADCAST_RECOVERY, SkipSleeper};

    /// Answers each invocation from a script, and keeps what each resource was given.
    struct Scripted {
        answers: Mutex<VecDeque<Result<Value, TaskFailure>>>,
        calls: Mutex<Vec<(String, Value)>>,
    }

    impl Scripted {
        fn new(answers: Vec<Result<Value, TaskFailure>>) -> Self {
            Self { answers: Mutex::new(answers.into()), calls: Mutex::default() }
        }
    }

    impl TaskInvoker for Scripted {
        async fn invoke(&self, resource: &str, input: Value) -> Result<Value, TaskFailure> {
            self.calls.lock().unwrap().push((resource.to_owned(), input));
            self.answers.lock().unwrap().pop_front().expect("a scripted answer for every call")
        }
    }

    fn recovery() -> Definition {
        Definition::parse(BROADCAST_RECOVERY, &[("ErrorHandlerFunctionArn", "eh"), ("BroadcastRetryFunctionArn", "br")])
            .expect("the bundled definition parses")
    }

    fn input() -> Value {
        json!({"error": {"order_key": "PO-1-0123456789abcdef", "stage": "broadcast_dte", "code": "provider_unavailable",
                         "message": "m", "retryable": true, "attempt": 1}})
    }

    fn decide(retryable: bool, wait: u64, attempt: u32) -> Result<Value, TaskFailure> {
        Ok(json!({"retryable": retryable, "wait_seconds": wait, "attempt": attempt}))
    }

    fn broadcast_failed(attempt: u32) -> Result<Value, TaskFailure> {
        let mut error = input()["error"].clone();
        error["attempt"] = json!(attempt);
        Ok(json!({"succeeded": false, "error": error}))
    }

    fn failure(error: &str) -> Result<Value, TaskFailure> {
        Err(TaskFailure { error: error.into(), cause: "boom".into() })
    }

    #[tokio::test]
    async fn a_retry_that_fails_then_passes_succeeds_after_both_waits() {
        let tasks = Scripted::new(vec![
            decide(true, 30, 2),
            broadcast_failed(2),
            decide(true, 60, 3),
            Ok(json!({"succeeded": true, "state": "broadcast_dte"})),
        ]);
        let sleeper = SkipSleeper::default();
        let run = run(&recovery(), input(), &tasks, &sleeper).await;
        assert_eq!(run.status, Status::Succeeded, "{run:?}");
        let loop_once = ["RecordFailure", "ShouldRetry", "Backoff", "RetryBroadcast", "Broadcasted"];
        let expected: Vec<&str> =
            loop_once.iter().chain(&["NextFailure"]).chain(&loop_once).chain(&["Recovered"]).copied().collect();
        assert_eq!(run.path, expected);
        assert_eq!(sleeper.waited_seconds(), 90);
        let calls = tasks.calls.lock().unwrap();
        assert_eq!(calls[0], ("eh".into(), json!({"task": "record_failure", "error": input()["error"]})));
        assert_eq!(calls[1].1, json!({"order_key": "PO-1-0123456789abcdef", "attempt": 2}));
        assert_eq!(calls[2].1["error"]["attempt"], 2, "the second failure is the one recorded next");
    }

    #[tokio::test]
    async fn no_retry_left_gives_up_and_fails_with_a_clear_cause() {
        let tasks = Scripted::new(vec![decide(false, 0, 1), Ok(json!({"state": "broadcast_failed"}))]);
        let run = run(&recovery(), input(), &tasks, &SkipSleeper::default()).await;
        assert_eq!(run.status, Status::Failed);
        assert_eq!(run.path, ["RecordFailure", "ShouldRetry", "GiveUp", "BroadcastFailed"]);
        assert_eq!(run.error.as_deref(), Some("BroadcastFailed"));
        assert!(run.cause.unwrap().contains("broadcast_failed"));
        assert_eq!(tasks.calls.lock().unwrap()[1].1["task"], "give_up");
    }

    #[tokio::test]
    async fn lambda_service_errors_are_retried_with_backoff_and_task_errors_caught() {
        let tasks = Scripted::new(vec![
            failure("Lambda.ServiceException"),
            failure("Lambda.ServiceException"),
            decide(true, 0, 2),
            failure("Permanent"),
            Ok(json!({"state": "broadcast_failed"})),
        ]);
        let sleeper = SkipSleeper::default();
        let run = run(&recovery(), input(), &tasks, &sleeper).await;
        assert_eq!(
            run.path,
            ["RecordFailure", "ShouldRetry", "Backoff", "RetryBroadcast", "GiveUp", "BroadcastFailed"]
        );
        assert_eq!(sleeper.waited_seconds(), 2 + 4, "IntervalSeconds 2, BackoffRate 2");
        let calls = tasks.calls.lock().unwrap();
        assert_eq!(calls[4].1["error"]["order_key"], "PO-1-0123456789abcdef", "the failure path still has the order");
    }

    #[tokio::test]
    async fn a_failing_failure_path_ends_in_its_own_fail_state() {
        let tasks = Scripted::new(vec![decide(false, 0, 1), failure("Permanent")]);
        let run = run(&recovery(), input(), &tasks, &SkipSleeper::default()).await;
        assert_eq!(run.error.as_deref(), Some("RecoveryOutcomeNotRecorded"));
        assert_eq!(run.path.last().map(String::as_str), Some("GiveUpFailed"));
    }

    #[test]
    fn unsupported_constructs_and_missing_substitutions_are_refused() {
        assert!(matches!(
            Definition::parse(BROADCAST_RECOVERY, &[]),
            Err(crate::asl::DefinitionError::Unsubstituted(name)) if name == "${ErrorHandlerFunctionArn}"
        ));
        let map = r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true}}}"#;
        assert!(Definition::parse(map, &[]).is_err());
        let timeout =
            r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "r", "TimeoutSeconds": 3, "Next": "T"}}}"#;
        assert!(Definition::parse(timeout, &[]).is_err(), "an unknown field is refused, not ignored");
        let dangling = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Nowhere"}}}"#;
        assert!(Definition::parse(dangling, &[]).is_err());
        let jsonpath = r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.a[0]", "Next": "S"}, "S": {"Type": "Succeed"}}}"#;
        assert!(Definition::parse(jsonpath, &[]).is_err());
    }
}
