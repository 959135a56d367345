//! Operator actions: audited, refused when the order moved, applied once per form, refused for
//! viewers and for forms without the session's CSRF token.

use orderflow_shared::lifecycle::{HistoryKind, State};
use orderflow_shared::ports::{FifoQueue, OrderStore, OutgoingMessage};

use super::helpers::{Browser, OPERATOR, VIEWER, broadcast_failed, embedded};

#[tokio::test]
async fn an_operator_retries_a_broadcast_failed_order_once_and_the_history_names_them() {
    let portal = embedded(1).await;
    let record = broadcast_failed(&portal.service, "RETRY-1").await;
    let mut ana = Browser::signed_in(&portal.url, OPERATOR).await;
    let inbox = ana.get("/console/exceptions").await;
    let (csrf, action_id) = (inbox.csrf(), inbox.action_id());
    let path = format!("/console/orders/{}/retry", record.key);
    let form = [("csrf", csrf.as_str()), ("action_id", action_id.as_str()), ("seen", "broadcast_failed")];

    let done = ana.post(&path, &form).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("1 done"), "{}", done.body);
    let stored = portal.service.store.get(&record.key).await.unwrap().unwrap();
    assert_eq!(stored.state, State::BroadcastDte);
    let operator_lines: Vec<_> = stored.history.iter().filter(|e| e.kind == HistoryKind::Operator).collect();
    assert_eq!(operator_lines.len(), 1, "{:?}", stored.history);
    assert_eq!(operator_lines[0].by, "operator:ana");
    assert!(operator_lines[0].detail.starts_with("retry broadcast-dte"), "{}", operator_lines[0].detail);
    let last = stored.history.last().unwrap();
    assert_eq!((last.by.as_str(), last.to), ("operator:ana", Some(State::BroadcastDte)));

    // The same form again (a double click): nothing more happens.
    let twice = ana.post(&path, &form).await;
    assert!(twice.body.contains("1 already done"), "{}", twice.body);
    assert_eq!(portal.service.store.get(&record.key).await.unwrap().unwrap(), stored);

    // A fresh form from a page that showed it as broadcast_failed: the state moved, refused.
    let stale = ana.post(&path, &[("csrf", &csrf), ("action_id", "another-form"), ("seen", "broadcast_failed")]).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.body.contains("the order is broadcast_dte now, no longer broadcast_failed"), "{}", stale.body);

    // The timeline shows the operator's entry, and the order left the inbox.
    let detail = ana.get(&format!("/console/orders/{}", record.key)).await;
    assert!(detail.body.contains("operator:ana") && detail.body.contains("retry broadcast-dte"), "{}", detail.body);
    let inbox = ana.get("/console/exceptions").await;
    assert!(!inbox.body.contains(&format!("data-key=\"{}\"", record.key)), "still in the inbox");
    let resolved = ana.get("/console/exceptions?tab=resolved").await;
    assert!(resolved.body.contains("RETRY-1") && resolved.body.contains("operator:ana"), "{}", resolved.body);
}

#[tokio::test]
async fn a_viewer_gets_403_on_every_action_and_nothing_changes() {
    let portal = embedded(1).await;
    let record = broadcast_failed(&portal.service, "VIEW-1").await;
    let mut vic = Browser::signed_in(&portal.url, VIEWER).await;
    let csrf = vic.get("/console/exceptions").await.csrf();
    let key = record.key.to_string();
    let posts = [
        (format!("/console/orders/{key}/retry"), vec![("seen", "broadcast_failed"), ("action_id", "v1")]),
        (
            format!("/console/orders/{key}/cancel"),
            vec![("seen", "broadcast_failed"), ("action_id", "v2"), ("reason", "x")],
        ),
        ("/console/queues/pending/redrive".into(), vec![("message_id", "m")]),
        ("/console/queues/erp/redrive".into(), vec![("message_id", "m")]),
        ("/console/bulk/retry".into(), vec![("state", "broadcast_failed"), ("action_id", "v3")]),
    ];
    for (path, mut form) in posts {
        form.push(("csrf", &csrf));
        assert_eq!(vic.post(&path, &form).await.status, 403, "{path}");
    }
    assert_eq!(portal.service.store.get(&record.key).await.unwrap().unwrap(), record);
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_is_refused() {
    let portal = embedded(1).await;
    let record = broadcast_failed(&portal.service, "CSRF-1").await;
    let mut ana = Browser::signed_in(&portal.url, OPERATOR).await;
    let other = Browser::signed_in(&portal.url, OPERATOR).await;
    let mut other = other;
    let foreign = other.get("/console/").await.csrf();
    let path = format!("/console/orders/{}/retry", record.key);
    for token in ["", "0000", foreign.as_str()] {
        let page = ana.post(&path, &[("csrf", token), ("action_id", "a"), ("seen", "broadcast_failed")]).await;
        assert_eq!(page.status, 403, "token {token:?}");
    }
    assert_eq!(portal.service.store.get(&record.key).await.unwrap().unwrap(), record);
}

#[tokio::test]
async fn a_cancel_needs_a_reason_and_keeps_it_in_the_history() {
    let portal = embedded(1).await;
    let record = broadcast_failed(&portal.service, "CANCEL-1").await;
    let mut ana = Browser::signed_in(&portal.url, OPERATOR).await;
    let csrf = ana.get("/console/").await.csrf();
    let path = format!("/console/orders/{}/cancel", record.key);
    let empty =
        ana.post(&path, &[("csrf", &csrf), ("action_id", "c1"), ("seen", "broadcast_failed"), ("reason", " ")]).await;
    assert!(empty.body.contains("a cancellation needs a reason"), "{}", empty.body);
    assert_eq!(portal.service.store.get(&record.key).await.unwrap().unwrap().state, State::BroadcastFailed);
    let form =
        [("csrf", csrf.as_str()), ("action_id", "c2"), ("seen", "broadcast_failed"), ("reason", "customer withdrew")];
    assert!(ana.post(&path, &form).await.body.contains("1 done"));
    let stored = portal.service.store.get(&record.key).await.unwrap().unwrap();
    assert_eq!(stored.state, State::Cancelled);
    assert!(stored.history.iter().any(|e| e.by == "operator:ana" && e.detail.contains("cancel: customer withdrew")));
}

#[tokio::test]
async fn a_bulk_retry_acts_on_every_match_beyond_one_page_with_a_result_each() {
    let portal = embedded(1).await;
    let mut keys = Vec::new();
    for n in 0..130 {
        keys.push(broadcast_failed(&portal.service, &format!("BULK-{n:03}")).await.key);
    }
    let mut ana = Browser::signed_in(&portal.url, OPERATOR).await;
    let inbox = ana.get("/console/exceptions").await;
    let csrf = inbox.csrf();
    let form =
        [("csrf", csrf.as_str()), ("action_id", "bulk-1"), ("state", "broadcast_failed"), ("from", ""), ("to", "")];
    let page = ana.post("/console/bulk/retry", &form).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("130 done, 0 already done, 0 skipped"), "{}", &page.body[..page.body.len().min(3000)]);
    assert_eq!(page.body.matches("class=\"done\"").count(), 130);
    for key in &keys {
        assert_eq!(portal.service.store.get(key).await.unwrap().unwrap().state, State::BroadcastDte);
    }
    // Submitted again: every order reports the action as already applied.
    let again = ana.post("/console/bulk/retry", &form).await;
    assert!(again.body.contains("0 done"), "{}", &again.body[..again.body.len().min(3000)]);
    // Nothing matches a day with no failures.
    let none = [
        ("csrf", csrf.as_str()),
        ("action_id", "bulk-2"),
        ("state", "broadcast_failed"),
        ("from", "2001-01-01"),
        ("to", "2001-01-01"),
    ];
    assert!(
        ana.post("/console/bulk/retry", &none)
            .await
            .body
            .contains("0 done, 0 already done, 0 skipped because the state moved, 0 failed")
    );
}

#[tokio::test]
async fn a_pending_message_is_redriven_and_an_erp_message_replayed_once() {
    let portal = embedded(0).await;
    let queues = [
        ("pending", &portal.pending, &portal.service.queue, "validation", "invalid_order: no lines"),
        ("erp", &portal.erp_dlq, &portal.erp_sync, "unavailable", "erp_timeout: no answer"),
    ];
    let mut ana = Browser::signed_in(&portal.url, OPERATOR).await;
    for (name, dead_letters, target, class, error) in queues {
        let parked = OutgoingMessage::new(format!("{{\"queue\":\"{name}\"}}"), "group-1", format!("dedup-{name}"))
            .with_attribute("orderflow.class", class)
            .with_attribute("orderflow.error", error);
        dead_letters.send(parked).await.unwrap();
        let inbox = ana.get("/console/exceptions").await;
        assert!(inbox.body.contains(error), "{name}: {}", inbox.body);
        let action = format!("/console/queues/{name}/redrive");
        let form_at = inbox.body.find(&format!("/queues/{name}/redrive")).unwrap_or_else(|| panic!("no {name} form"));
        let id = inbox.body[form_at..].split("name=\"message_id\" value=\"").nth(1).unwrap().split('"').next().unwrap();
        let csrf = inbox.csrf();
        let form = [("csrf", csrf.as_str()), ("message_id", id)];
        assert!(ana.post(&action, &form).await.body.contains("1 done"), "{name}");
        assert!(ana.post(&action, &form).await.body.contains("1 already done"), "{name}");
        let moved = target.receive(10).await.unwrap();
        assert_eq!(moved.len(), 1, "{name}");
        assert_eq!(moved[0].body, format!("{{\"queue\":\"{name}\"}}"));
        assert!(dead_letters.receive(10).await.unwrap().is_empty(), "{name}");
    }
}
