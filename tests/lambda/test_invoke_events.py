"""Every file in events/ goes through `cargo lambda invoke` to the function its name starts with.

These are the payloads a user gives `sam local invoke`, so none can go stale: a file that no case
below covers fails the run. Cases run in the order listed, since later routes act on the order
that earlier ones registered.
"""

import gzip
import json

import pytest

from conftest import BUCKET, REPO

EVENTS = REPO / "events"


def order_key():
    body = json.loads(json.loads((EVENTS / "state-router-post-order.json").read_text())["body"])
    return body["order_key"]


def api_body(response):
    return json.loads(response["body"]) if response.get("body") else None


def check_converter(response, aws, resources):
    assert [o["outcome"] for o in response["outcomes"]] == ["queued"], response
    messages = aws["sqs"].receive_message(
        QueueUrl=resources["orders"], MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageGroupId"]
    ).get("Messages", [])
    # The webhook case before this one queued its own order; this sample's key must be there.
    assert order_key() in [m["Attributes"]["MessageGroupId"] for m in messages]


def expect_status(status, state=None):
    def check(response, aws, resources):
        assert response["statusCode"] == status, response
        body = api_body(response)
        if state:
            # A duplicate answer wraps the record; a fresh one is the record (whose `order` is the document).
            order = body["order"] if body.get("duplicate") else body
            assert order["state"] == state, body

    return check


def check_list(response, aws, resources):
    assert response["statusCode"] == 200, response
    assert order_key() in [o["key"] for o in api_body(response)["orders"]]


def check_stats(response, aws, resources):
    assert response["statusCode"] == 200, response
    counts = {s["state"]: s["count"] for s in api_body(response)["states"]}
    assert counts["registered"] >= 1


def check_cancel_after_delivery(response, aws, resources):
    assert response["statusCode"] == 409, response
    assert api_body(response)["error"]["current_state"] == "delivered"


def check_email(response, aws, resources):
    assert response["batchItemFailures"] == [], response
    item = aws["dynamodb"].get_item(TableName=resources["table"], Key={"pk": {"S": order_key()}})["Item"]
    assert "notified_at" in item, "the customer email was claimed and settled"


def check_queue_reader(response, aws, resources):
    assert response["batchItemFailures"] == [], response
    item = aws["dynamodb"].get_item(TableName=resources["table"], Key={"pk": {"S": "PO-77-0042-5aa91a2b3b772fe4"}})
    assert "Item" in item, "the batch's second order was registered through the router"


def check_retry_decided(response, aws, resources):
    assert (response["retryable"], response["attempt"]) == (True, 2), response
    assert response["wait_seconds"] > 0, response


def check_broadcast_recovered(response, aws, resources):
    assert (response["succeeded"], response["state"]) == (True, "broadcast_dte"), response


def check_webhook(response, aws, resources):
    assert response["statusCode"] == 202, response
    messages = aws["sqs"].receive_message(QueueUrl=resources["erp_sync"], MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1, messages


def check_unmappable_order_parked(response, aws, resources):
    # The sample's second line has no SKU, which the Business Central mapping requires: a
    # permanent refusal, so the message waits in the ERP DLQ with the reason instead of retrying.
    assert response["batchItemFailures"] == [], response
    parked = aws["sqs"].receive_message(QueueUrl=resources["erp_dlq"], MessageAttributeNames=["All"])["Messages"]
    assert len(parked) == 1
    assert "sku" in parked[0]["MessageAttributes"]["orderflow.error"]["StringValue"]


def check_shop_action_queued(response, aws, resources):
    assert response["batchItemFailures"] == [], response
    messages = aws["sqs"].receive_message(
        QueueUrl=resources["shop_sync"], MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageGroupId"]
    ).get("Messages", [])
    assert len(messages) == 1, messages
    assert json.loads(messages[0]["Body"]) == {"order_key": order_key(), "state": "dispatched"}
    assert messages[0]["Attributes"]["MessageGroupId"] == order_key(), "one group per order"


def check_api_order_has_no_shop(response, aws, resources):
    # The sample order came in through the API, not from a shop: skipped, nothing parked or written.
    assert response["batchItemFailures"] == [], response
    parked = aws["sqs"].receive_message(QueueUrl=resources["shop_dlq"]).get("Messages", [])
    assert parked == []
    item = aws["dynamodb"].get_item(TableName=resources["table"], Key={"pk": {"S": order_key()}})["Item"]
    record = json.loads(gzip.decompress(item["record"]["B"]))
    assert record["state"] == "dispatched" and record["source"] == "api", record["source"]
    assert "shop_sync" not in record, "no claim was written for an order without a shop"
def check_polled(response, aws, resources):
    assert (response["source"], response["queued"], response["outcome"]) == ("woocommerce", 1, "caught_up"), response
    messages = aws["sqs"].receive_message(
        QueueUrl=resources["erp_sync"], MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageDeduplicationId"]
    ).get("Messages", [])
    dedup = [m["Attributes"]["MessageDeduplicationId"] for m in messages]
    assert "poll:woocommerce/order/727" in dedup, dedup
    cursor = aws["dynamodb"].get_item(TableName=resources["poll_cursors"], Key={"pk": {"S": "woocommerce"}})["Item"]
    assert cursor["version"] == {"N": "1"}, cursor


def check_console_sign_in(response, aws, resources):
    assert response["statusCode"] == 303, response
    # lambda_http puts headers in multiValueHeaders (API Gateway merges both).
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    headers |= {k.lower(): v[0] for k, v in (response.get("multiValueHeaders") or {}).items()}
    assert headers["location"].startswith("https://orderflow-dev.auth.us-west-2.amazoncognito.com/oauth2/authorize?")
    assert "code_challenge_method=S256" in headers["location"]
    assert headers["set-cookie"].startswith("orderflow_pkce=") and "HttpOnly" in headers["set-cookie"]


def check_console_stats(response, aws, resources):
    assert response["statusCode"] == 200, response
    assert "Exception rate per stage" in response["body"] and "olga (operator)" in response["body"]


def check_console_viewer(response, aws, resources):
    assert response["statusCode"] == 200, response
    body = response["body"]
    assert "Orders in error or broadcast_failed" in body and "vera (viewer)" in body
    assert "/retry" not in body and "Retry all matches" not in body, "a viewer sees no actions"


def check_unauthorized(response, aws, resources):
    assert "Unauthorized" in response["error"], response


def check_catalog_push(response, aws, resources):
    # Nothing is staged yet, so a push-only run has nothing to send: no shop call, and the run
    # is recorded in the staging table's run list.
    assert (response["phase"], response["pushed"], response["shop_calls"], response["error"]) == ("push", 0, 0, None), response
    runs = aws["dynamodb"].scan(TableName=resources["staging"])["Items"]
    assert [r["list"]["S"] for r in runs] == ["run"], runs


CASES = [
    ("webhook-bridge", "webhook-bridge-shopify-order-created.json", check_webhook),
    ("order-poller", "order-poller-woocommerce.json", check_polled),
    ("erp-sync-worker", "erp-sync-worker-batch.json", check_unmappable_order_parked),
    ("xml-order-converter", "xml-order-converter-s3-put.json", check_converter),
    ("state-router", "state-router-post-order.json", expect_status(201, "registered")),
    ("state-router", "state-router-get-order.json", expect_status(200, "registered")),
    ("state-router", "state-router-list-orders.json", check_list),
    ("state-router", "state-router-stats.json", check_stats),
    ("state-router", "state-router-issuance-dte.json", expect_status(200, "issuance_dte")),
    ("email-notifier", "email-notifier-dynamodb-stream.json", check_email),
    # The recovery workflow's tasks, as Step Functions passes them: a broadcast failure recorded
    # (order to error, retry decided), then the retry that brings the order to broadcast_dte.
    ("error-handler", "error-handler-sfn-task.json", check_retry_decided),
    ("broadcast-retry", "broadcast-retry-sfn-task.json", check_broadcast_recovered),
    ("state-router", "state-router-broadcast-dte.json", expect_status(200, "broadcast_dte")),
    # Another stage's failure through the error API; the dispatch that follows resumes from it.
    ("error-handler", "error-handler-post-error.json", expect_status(200, "error")),
    ("state-router", "state-router-dispatch.json", expect_status(200, "dispatched")),
    ("shop-sync", "shop-sync-dynamodb-stream.json", check_shop_action_queued),
    ("shop-sync", "shop-sync-sqs-batch.json", check_api_order_has_no_shop),
    ("state-router", "state-router-deliver.json", expect_status(200, "delivered")),
    ("state-router", "state-router-cancel.json", check_cancel_after_delivery),
    ("queue-reader", "queue-reader-batch.json", check_queue_reader),
    # The back-office portal behind its authorizer: what the authorizer passed on is the identity.
    ("backoffice", "backoffice-sign-in.json", check_console_sign_in),
    ("backoffice", "backoffice-stats.json", check_console_stats),
    ("backoffice", "backoffice-exceptions-viewer.json", check_console_viewer),
    ("backoffice-authorizer", "backoffice-authorizer-forged-cookie.json", check_unauthorized),
    ("catalog-sync", "catalog-sync-push.json", check_catalog_push),
]


def test_every_event_file_has_a_case():
    covered = {file for _, file, _ in CASES}
    present = {p.name for p in EVENTS.glob("*.json")}
    assert present == covered, f"uncovered: {sorted(present - covered)}; missing: {sorted(covered - present)}"
    for function, file, _ in CASES:
        assert file.startswith(f"{function}-"), file


@pytest.fixture(scope="module")
def uploaded_sample(aws):
    aws["s3"].put_object(Bucket=BUCKET, Key="incoming/small-clp.xml", Body=(EVENTS / "orders" / "small-clp.xml").read_bytes())


@pytest.mark.parametrize("function,file,check", CASES, ids=[c[1] for c in CASES])
def test_event_file_through_cargo_lambda_invoke(function, file, check, invoke, aws, resources, uploaded_sample):
    check(invoke(function, EVENTS / file, fails=check is check_unauthorized), aws, resources)
