//! The notifier on embedded adapters: claim, send, settle, replay, takeover, and the stream
//! event in `events/`.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use email_notifier::{Notified, Notifier, NotifyError, handle, notify, notify_changes};
use orderflow_shared::adapters::embedded::{EmbeddedOrderStore, OutboxMailer};
use orderflow_shared::effect_claim::EffectError;
use orderflow_shared::email::Email;
use orderflow_shared::error::PortError;
use orderflow_shared::lifecycle::{EffectClaim, HistoryKind, OrderRecord, State};
use orderflow_shared::order::CanonicalOrder;
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{Expected, ListError, MailError, Mailer, OrderPage, OrderStore, StateStats, WriteError};
use orderflow_shared::test_dir::TestDir;
use orderflow_shared::ubl::{Limits, parse_order};

const NOW: &str = "2026-03-02T12:00:00.000Z";

/// Records what it is asked to send; answers from a script, then with message ids.
#[derive(Default)]
struct ScriptedMailer {
    sent: Mutex<Vec<Email>>,
    script: Mutex<VecDeque<MailError>>,
}

impl Mailer for ScriptedMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        if let Some(error) = self.script.lock().unwrap().pop_front() {
            return Err(error);
        }
        let mut sent = self.sent.lock().unwrap();
        sent.push(email.clone());
        Ok(format!("msg-{}", sent.len()))
    }
}

fn order() -> CanonicalOrder {
    let xml = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/orders/small-clp.xml")).unwrap();
    parse_order(&xml, &Limits::default()).unwrap()
}

fn notifier<M: Mailer>(mailer: M) -> Notifier<EmbeddedOrderStore, M> {
    Notifier {
        store: EmbeddedOrderStore::new(),
        mailer,
        sender: "orders@example.com".into(),
        claim_timeout: Duration::from_secs(300),
    }
}

/// Registers the order and moves it to `issuance_dte`, as the state router does.
async fn issued<M: Mailer>(deps: &Notifier<EmbeddedOrderStore, M>, order: CanonicalOrder) -> OrderRecord {
    let mut record = OrderRecord::register(order, "test", "test", NOW);
    deps.store.put(&record, None).await.unwrap();
    let registered = Expected::of(&record);
    record.transition(State::IssuanceDte, "test", "folio 1", NOW).unwrap();
    deps.store.put(&record, Some(registered)).await.unwrap();
    record
}

async fn stored<M: Mailer>(deps: &Notifier<EmbeddedOrderStore, M>, record: &OrderRecord) -> OrderRecord {
    deps.store.get(&record.key).await.unwrap().unwrap()
}

fn notes(record: &OrderRecord) -> Vec<&str> {
    record.history.iter().filter(|h| h.kind == HistoryKind::Notification).map(|h| h.detail.as_str()).collect()
}

#[tokio::test]
async fn entering_issuance_sends_one_email_and_marks_the_order() {
    let deps = notifier(ScriptedMailer::default());
    let record = issued(&deps, order()).await;
    let results = notify_changes(&deps, &deps.store.changes_since(0)).await;
    assert_eq!(results.len(), 1, "only the change into issuance_dte passes the filter");
    assert_eq!(results[0].1.as_ref().unwrap(), &Notified::Sent { message_id: "msg-1".into() });
    let sent = deps.mailer.sent.lock().unwrap().clone();
    assert_eq!(sent[0].to.as_str(), "compras@panaderianunoa.cl");
    assert_eq!(sent[0].subject, "Tu pedido OC-2026-00417 está en proceso");
    let after = stored(&deps, &record).await;
    assert!(after.notified_at.is_some() && after.notification_claim.is_none());
    assert_eq!(after.state, State::IssuanceDte, "the notifier never changes the state");
    assert_eq!(notes(&after), ["email sent to c***@panaderianunoa.cl (message id msg-1)"]);
}

#[tokio::test]
async fn replaying_the_changes_sends_nothing() {
    let deps = notifier(ScriptedMailer::default());
    issued(&deps, order()).await;
    let changes = deps.store.changes_since(0);
    notify_changes(&deps, &changes).await;
    let replay = notify_changes(&deps, &changes).await;
    assert!(matches!(replay[0].1, Ok(Notified::AlreadySettled)));
    assert_eq!(deps.mailer.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn other_transitions_send_nothing() {
    let deps = notifier(ScriptedMailer::default());
    let mut record = OrderRecord::register(order(), "test", "test", NOW);
    deps.store.put(&record, None).await.unwrap();
    let registered = Expected::of(&record);
    record.transition(State::Cancelled, "test", "changed their mind", NOW).unwrap();
    deps.store.put(&record, Some(registered)).await.unwrap();
    assert!(notify_changes(&deps, &deps.store.changes_since(0)).await.is_empty());
    assert!(deps.mailer.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_address_is_recorded_once_and_not_retried() {
    let deps = notifier(ScriptedMailer::default());
    let mut bad = order();
    bad.buyer.email = Some("compras at panaderia".into());
    let record = issued(&deps, bad).await;
    let changes = deps.store.changes_since(0);
    assert!(matches!(notify_changes(&deps, &changes).await[0].1, Ok(Notified::RecipientRejected)));
    assert!(matches!(notify_changes(&deps, &changes).await[0].1, Ok(Notified::AlreadySettled)));
    let after = stored(&deps, &record).await;
    assert_eq!(notes(&after), ["email not sent: `c*** (no @)` is not an email address"]);
    assert!(after.notified_at.is_none() && deps.mailer.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_address_ses_refuses_is_recorded_and_the_claim_dropped() {
    let mailer = ScriptedMailer::default();
    mailer
        .script
        .lock()
        .unwrap()
        .push_back(MailError::InvalidRecipient("c***@panaderianunoa.cl refused by SES".into()));
    let deps = notifier(mailer);
    let record = issued(&deps, order()).await;
    assert_eq!(notify(&deps, &record.key).await.unwrap(), Notified::RecipientRejected);
    let after = stored(&deps, &record).await;
    assert!(after.notification_claim.is_none());
    assert_eq!(notes(&after), ["email not sent: c***@panaderianunoa.cl refused by SES"]);
}

#[tokio::test]
async fn throttling_releases_the_claim_so_the_retry_sends() {
    let mailer = ScriptedMailer::default();
    mailer
        .script
        .lock()
        .unwrap()
        .push_back(MailError::Port(PortError::transient("sesv2:SendEmail", "TooManyRequests")));
    let deps = notifier(mailer);
    let record = issued(&deps, order()).await;
    assert!(matches!(notify(&deps, &record.key).await, Err(NotifyError::Mail(_))));
    assert!(stored(&deps, &record).await.notification_claim.is_none());
    assert!(matches!(notify(&deps, &record.key).await, Ok(Notified::Sent { .. })));
}

/// A claim left by an invocation that died between claim and send.
async fn abandoned<M: Mailer>(deps: &Notifier<EmbeddedOrderStore, M>, claimed_at: String) -> OrderRecord {
    let mut record = issued(deps, order()).await;
    let issued = Expected::of(&record);
    record.notification_claim = Some(EffectClaim { claimed_at, attempt: 1, token: "abandoned".into() });
    record.version += 1;
    deps.store.put(&record, Some(issued)).await.unwrap();
    record
}

#[tokio::test]
async fn a_live_claim_fails_the_record_instead_of_sending_twice() {
    let deps = notifier(ScriptedMailer::default());
    let record = abandoned(&deps, orderflow_shared::lifecycle::now_rfc3339()).await;
    assert!(matches!(notify(&deps, &record.key).await, Err(NotifyError::Claim(EffectError::ClaimHeld(_)))));
    assert!(deps.mailer.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unfinished_claim_is_taken_over_after_the_timeout() {
    let deps = notifier(ScriptedMailer::default());
    let record = abandoned(&deps, "2020-01-01T00:00:00.000Z".into()).await;
    assert!(matches!(notify(&deps, &record.key).await, Ok(Notified::Sent { .. })));
    assert_eq!(deps.mailer.sent.lock().unwrap().len(), 1);
    assert!(stored(&deps, &record).await.notified_at.is_some());
}

/// How a scripted put goes wrong.
#[derive(Clone, Copy)]
enum Fate {
    /// The write lands and its answer is lost; the SDK's retry of it then fails its condition.
    Landed,
    /// The write never reaches the table, and the SDK gives up (a transient error).
    Failed,
}

/// The embedded store whose puts follow a script (`None`: as usual), then behave.
struct ScriptedStore {
    inner: EmbeddedOrderStore,
    puts: Mutex<VecDeque<Option<Fate>>>,
}

impl OrderStore for ScriptedStore {
    async fn get(&self, key: &OrderKey) -> Result<Option<OrderRecord>, PortError> {
        self.inner.get(key).await
    }

    async fn put(&self, record: &OrderRecord, expected: Option<Expected>) -> Result<(), WriteError> {
        let fate = self.puts.lock().unwrap().pop_front().flatten();
        if matches!(fate, Some(Fate::Failed)) {
            return Err(PortError::transient("dynamodb:PutItem", "HTTP 500").into());
        }
        self.inner.put(record, expected).await?;
        match fate {
            Some(_) => Err(WriteError::VersionConflict),
            None => Ok(()),
        }
    }

    async fn list_by_state(&self, state: State, limit: usize, cursor: Option<&str>) -> Result<OrderPage, ListError> {
        self.inner.list_by_state(state, limit, cursor).await
    }

    async fn stats(&self) -> Result<Vec<StateStats>, PortError> {
        self.inner.stats().await
    }
    async fn oldest_in_state(&self, state: State, before: &str, limit: usize) -> Result<Vec<OrderRecord>, PortError> {
        self.inner.oldest_in_state(state, before, limit).await
    }
    async fn days(&self, from: &str, to: &str) -> Result<Vec<orderflow_shared::day_counts::DayCounts>, PortError> {
        self.inner.days(from, to).await
    }
}

/// An order in `issuance_dte` whose notifier's puts follow `script` from the claim on.
async fn scripted(script: [Option<Fate>; 2]) -> (Notifier<ScriptedStore, ScriptedMailer>, OrderKey) {
    let plain = notifier(ScriptedMailer::default());
    let key = issued(&plain, order()).await.key;
    let store = ScriptedStore { inner: plain.store, puts: Mutex::new(script.into()) };
    (Notifier { store, mailer: plain.mailer, sender: plain.sender, claim_timeout: plain.claim_timeout }, key)
}

#[tokio::test]
async fn a_claim_that_landed_but_lost_its_answer_is_taken_as_ours_and_the_email_goes_out_once() {
    let (deps, key) = scripted([Some(Fate::Landed), None]).await;
    let notified = notify(&deps, &key).await;
    assert!(matches!(notified, Ok(Notified::Sent { .. })), "not ClaimHeld by our own claim: {notified:?}");
    assert_eq!(deps.mailer.sent.lock().unwrap().len(), 1);
    let after = deps.store.get(&key).await.unwrap().unwrap();
    assert!(after.notified_at.is_some() && after.notification_claim.is_none());
}

#[tokio::test]
async fn a_settle_that_landed_but_lost_its_answer_notes_the_email_once() {
    let (deps, key) = scripted([None, Some(Fate::Landed)]).await;
    assert!(matches!(notify(&deps, &key).await, Ok(Notified::Sent { .. })));
    let after = deps.store.get(&key).await.unwrap().unwrap();
    assert_eq!(notes(&after), ["email sent to c***@panaderianunoa.cl (message id msg-1)"]);
}

#[tokio::test]
async fn a_settle_that_failed_is_written_again_rather_than_left_for_a_retry_to_send_twice() {
    let (deps, key) = scripted([None, Some(Fate::Failed)]).await;
    assert!(matches!(notify(&deps, &key).await, Ok(Notified::Sent { .. })));
    let after = deps.store.get(&key).await.unwrap().unwrap();
    assert!(after.notified_at.is_some() && after.notification_claim.is_none());
    assert!(matches!(notify(&deps, &key).await, Ok(Notified::AlreadySettled)));
    assert_eq!(deps.mailer.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_stream_event_in_events_is_handled() {
    let json = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/email-notifier-dynamodb-stream.json"))
        .unwrap();
    let event: Event = serde_json::from_slice(&json).unwrap();
    let deps = notifier(ScriptedMailer::default());
    let record = issued(&deps, order()).await;
    assert_eq!(event.records[0].change.keys.inner().len(), 1);
    let response = handle(&deps, event.clone()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(deps.mailer.sent.lock().unwrap()[0].subject, "Tu pedido OC-2026-00417 está en proceso");
    // The same batch again: a replay, nothing sent.
    handle(&deps, event.clone()).await;
    assert_eq!(deps.mailer.sent.lock().unwrap().len(), 1);
    assert!(stored(&deps, &record).await.notified_at.is_some());
}

#[tokio::test]
async fn a_transient_failure_is_reported_by_sequence_number() {
    let json = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/email-notifier-dynamodb-stream.json"))
        .unwrap();
    let event: Event = serde_json::from_slice(&json).unwrap();
    let mailer = ScriptedMailer::default();
    mailer.script.lock().unwrap().push_back(MailError::Port(PortError::transient("sesv2:SendEmail", "HTTP 503")));
    let deps = notifier(mailer);
    issued(&deps, order()).await;
    let response = handle(&deps, event).await;
    let ids: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_deref()).collect();
    assert_eq!(ids, [Some("4421584500000000017450439092")]);
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json["batchItemFailures"][0]["itemIdentifier"], "4421584500000000017450439092");
}

#[tokio::test]
async fn locally_the_email_lands_in_the_outbox_folder() {
    let dir = TestDir::new("notifier-outbox");
    let deps = notifier(OutboxMailer::new(&*dir));
    issued(&deps, order()).await;
    notify_changes(&deps, &deps.store.changes_since(0)).await;
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("compras@panaderianunoa.cl") && eml.contains("text/html"), "{eml}");
}
