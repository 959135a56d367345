//! Every page for both roles, and the gate in front of them.

use super::helpers::{Browser, OPERATOR, VIEWER, broadcast_failed, embedded};

/// Every page the portal serves by GET, with what it must show.
fn pages(key: &str) -> Vec<(String, &'static str)> {
    vec![
        ("/console/".into(), "Orders per state now"),
        ("/console".into(), "Early warnings"),
        ("/console/exceptions".into(), "Orders in error or broadcast_failed"),
        ("/console/exceptions?tab=resolved".into(), "Resolved"),
        (format!("/console/orders/{key}"), "Timeline"),
        ("/console/search?state=broadcast_failed".into(), "Orders, newest first"),
        ("/console/stats".into(), "Exception rate per stage"),
        ("/console/stats.csv".into(), "series,label,value"),
        (format!("/console/orders/{key}/original"), "<Order"),
    ]
}

#[tokio::test]
async fn every_page_needs_a_session_and_a_post_without_one_is_401() {
    let portal = embedded(1).await;
    let record = broadcast_failed(&portal.service, "GATE-1").await;
    let mut anonymous = Browser::new(&portal.url);
    let pages = pages(record.key.as_str());
    assert!(!pages.is_empty());
    for (path, _) in &pages {
        let page = anonymous.get(path).await;
        assert_eq!((page.status, page.location.as_deref()), (303, Some("/console/sign-in")), "{path}");
    }
    let retry = format!("/console/orders/{}/retry", record.key);
    assert_eq!(
        anonymous.post(&retry, &[("csrf", "x"), ("action_id", "a"), ("seen", "broadcast_failed")]).await.status,
        401
    );
    let form = anonymous.get("/console/sign-in").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<label for=\"password\">"), "{}", form.body);
}

#[tokio::test]
async fn a_wrong_password_or_an_unknown_name_is_refused_alike() {
    let portal = embedded(0).await;
    let mut browser = Browser::new(&portal.url);
    let wrong = browser.sign_in(OPERATOR.0, VIEWER.1).await;
    let unknown = browser.sign_in("nobody", OPERATOR.1).await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    let without_token = |body: &str| body.split("name=\"csrf\"").next().unwrap_or_default().to_owned();
    assert_eq!(without_token(&wrong.body), without_token(&unknown.body), "the answer must not tell which names exist");
    let overview = browser.get("/console/").await;
    assert_eq!((overview.status, overview.location.as_deref()), (303, Some("/console/sign-in")), "no session");
}

/// Login CSRF: a post that does not come from the form this browser was shown (no cookie, the
/// cookie of another form, a token of another form) signs nobody in, even with a right password.
#[tokio::test]
async fn a_sign_in_not_posted_from_the_form_shown_is_refused() {
    let portal = embedded(0).await;
    let mut forger = Browser::new(&portal.url);
    let credentials = [("name", OPERATOR.0), ("password", OPERATOR.1)];
    let blind = forger.post("/console/sign-in", &credentials).await;
    assert_eq!(blind.status, 403, "no form, no cookie: {}", blind.body);
    let mut other = Browser::new(&portal.url);
    let token_elsewhere = other.get("/console/sign-in").await.csrf();
    forger.get("/console/sign-in").await;
    let mixed = forger.post("/console/sign-in", &[credentials[0], credentials[1], ("csrf", &token_elsewhere)]).await;
    assert_eq!(mixed.status, 403, "another form's token: {}", mixed.body);
    let overview = forger.get("/console/").await;
    assert_eq!(overview.status, 303, "still signed out");
    // The same browser through its own form gets in.
    assert_eq!(forger.sign_in(OPERATOR.0, OPERATOR.1).await.status, 303);
}

#[tokio::test]
async fn every_page_renders_for_both_roles_and_only_operators_see_action_buttons() {
    let portal = embedded(1).await;
    let record = broadcast_failed(&portal.service, "PAGES-1").await;
    let original = std::fs::read(orderflow_e2e::repo_path("events/orders/small-clp.xml")).unwrap();
    orderflow_shared::ports::ObjectStore::put(&portal.bucket, "incoming/sample.xml", original, "application/xml")
        .await
        .unwrap();
    for (account, acts) in [(OPERATOR, true), (VIEWER, false)] {
        let mut browser = Browser::signed_in(&portal.url, account).await;
        let cookie = browser.cookie.clone().unwrap();
        for (path, shows) in pages(record.key.as_str()) {
            let page = browser.get(&path).await;
            assert_eq!(page.status, 200, "{} {path}: {}", account.0, page.body);
            assert!(page.body.contains(shows), "{} {path} lacks {shows:?}", account.0);
            // No page shows a secret: not the session, not a password or its hash.
            for secret in [cookie.as_str(), account.1, "$argon2id$"] {
                assert!(!page.body.contains(secret), "{} {path} shows a secret", account.0);
            }
        }
        let inbox = browser.get("/console/exceptions").await;
        assert!(inbox.body.contains(record.order.order_number.as_str()), "the inbox lists the order");
        let buttons = inbox.body.contains("/retry\"") && inbox.body.contains("/cancel\"");
        assert_eq!(buttons, acts, "{}: retry and cancel buttons", account.0);
        let detail = browser.get(&format!("/console/orders/{}", record.key)).await;
        assert_eq!(detail.body.contains("Retry the failed stage"), acts, "{}", account.0);
    }
}

#[tokio::test]
async fn search_pages_with_a_stable_cursor_and_an_order_key_goes_to_the_order() {
    let portal = embedded(1).await;
    let mut numbers = Vec::new();
    for n in 0..30 {
        numbers.push(broadcast_failed(&portal.service, &format!("SEARCH-{n:02}")).await.order.order_number.clone());
    }
    let mut browser = Browser::signed_in(&portal.url, VIEWER).await;
    let first = browser.get("/console/search?state=broadcast_failed&number=SEARCH").await;
    let next = first
        .body
        .split("rel=\"next\"")
        .next()
        .and_then(|b| b.rsplit("href=\"").next())
        .and_then(|h| h.split('"').next())
        .unwrap();
    assert!(next.contains("cursor="), "a next link: {}", first.body);
    // Another order fails meanwhile: the next page neither repeats nor skips the first's orders.
    broadcast_failed(&portal.service, "SEARCH-NEW").await;
    let second = browser.get(&next.replace("&amp;", "&").replace("&#x2f;", "/")).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let listed = |body: &str| numbers.iter().filter(|n| body.contains(&format!(">{n}<"))).count();
    assert_eq!(listed(&first.body) + listed(&second.body), 30);
    assert!(!second.body.contains(">SEARCH-NEW<"), "the newer order belongs before page one");

    let key = super::helpers::order("SEARCH-01").order_key;
    let key = browser.get(&format!("/console/search?key={key}")).await;
    assert_eq!(key.status, 303);
    assert!(key.location.unwrap().starts_with("/console/orders/"));
}

/// The next-page link of a search results page, as a path the browser can follow.
fn next_link(body: &str) -> Option<String> {
    let (before, _) = body.split_once("rel=\"next\"")?;
    let href = before.rsplit("href=\"").next()?.split('"').next()?;
    Some(href.replace("&amp;", "&").replace("&#x2f;", "/"))
}

#[tokio::test]
async fn an_order_number_is_found_in_any_state_and_the_pages_go_through_every_state() {
    let portal = embedded(1).await;
    let mut numbers = Vec::new();
    // 20 orders in broadcast_failed, 20 just registered: pages of 25 must cross from one state
    // (registered comes first in the lifecycle) to the other without losing or repeating one.
    for n in 0..20 {
        numbers.push(broadcast_failed(&portal.service, &format!("ANY-F{n:02}")).await.order.order_number.clone());
        let registered = super::helpers::order(&format!("ANY-R{n:02}"));
        portal.service.register(registered.clone(), "incoming/any.xml", "test").await.unwrap();
        numbers.push(registered.order_number);
    }
    let mut browser = Browser::signed_in(&portal.url, VIEWER).await;

    let one = browser.get("/console/search?number=ANY-F07").await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert!(one.body.contains(">ANY-F07<") && one.body.contains("<td>broadcast_failed</td>"), "{}", one.body);
    assert!(next_link(&one.body).is_none(), "every state was read: no next page");

    let mut seen = Vec::new();
    let mut path = Some("/console/search?state=any&number=ANY-".to_owned());
    while let Some(next) = path {
        assert!(seen.len() <= numbers.len(), "the pages do not end: {seen:?}");
        let page = browser.get(&next).await;
        assert_eq!(page.status, 200, "{next}: {}", page.body);
        seen.extend(numbers.iter().filter(|n| page.body.contains(&format!(">{n}<"))).cloned());
        path = next_link(&page.body);
    }
    seen.sort();
    let mut expected = numbers.clone();
    expected.sort();
    assert_eq!(seen, expected, "every order once, across both states");

    let stale = browser.get("/console/search?state=registered&cursor=broadcast_failed~x").await;
    assert!(stale.body.contains("not valid any more"), "a cursor of another state is refused: {}", stale.body);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let portal = embedded(0).await;
    let mut browser = Browser::signed_in(&portal.url, VIEWER).await;
    let old = browser.cookie.clone();
    let overview = browser.get("/console/").await;
    assert_eq!(overview.status, 200);
    let out = browser.post("/console/sign-out", &[("csrf", &overview.csrf())]).await;
    assert_eq!(out.status, 303);
    assert_eq!(browser.cookie, None, "the cookie is cleared");
    browser.cookie = old;
    let again = browser.get("/console/").await;
    assert_eq!((again.status, again.location.as_deref()), (303, Some("/console/sign-in")), "the old cookie is dead");
}

#[tokio::test]
async fn the_overview_warns_of_orders_longer_in_a_state_than_its_threshold_oldest_first() {
    use orderflow_shared::lifecycle::OrderRecord;
    use orderflow_shared::ports::OrderStore;

    let portal = embedded(0).await;
    let ago =
        |minutes: i64| backoffice::layout::rfc3339(time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes));
    // `registered` warns after 15 minutes by default: two late orders and one in time.
    for (number, minutes) in [("LATE-2H", 120), ("LATE-1H", 60), ("FRESH", 5)] {
        let record = OrderRecord::register(super::helpers::order(number), "test", "test", &ago(minutes));
        portal.service.store.put(&record, None).await.unwrap();
    }
    let mut vic = Browser::signed_in(&portal.url, VIEWER).await;
    let overview = vic.get("/console/").await;
    let warnings = overview.body.split("Early warnings").nth(1).expect("the warnings table");
    let (two, one) =
        (warnings.find(">LATE-2H<").expect("the oldest is listed"), warnings.find(">LATE-1H<").expect("listed"));
    assert!(two < one, "oldest first");
    assert!(!warnings.contains(">FRESH<"), "an order within its threshold is no warning");
    assert!(warnings.contains("2 h 0 min") && warnings.contains("15 min"), "how long, and the threshold");
    assert!(overview.body.contains("In process<b>3</b>"), "{}", overview.body);
}
