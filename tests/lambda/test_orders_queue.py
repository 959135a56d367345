"""POST /orders/queue against SQS in moto. API Gateway's part is played here: the template's
mapping template is rendered (tests/template/apigateway.py) and sent as API Gateway sends it, a
SigV4-signed form POST of the SQS query protocol to the queue's path. The queue reader, run with
cargo lambda invoke, then registers what arrived, through the state router.
"""

import gzip
import hashlib
import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "template"))

from apigateway import render  # noqa: E402
from translate import props, translate  # noqa: E402

SAMPLE = json.loads(json.loads((REPO / "events" / "state-router-post-order.json").read_text())["body"])


def derive_key(order):
    """OrderKey::derive (shared/src/order.rs): readable number, then 16 hex of SHA-256 over the
    identities of seller and buyer and the number, each followed by 0x1f."""

    def identity(party):
        for ident in [party.get("endpoint_id"), *party.get("ids", [])[:1], party.get("company_id")]:
            if ident:
                return f"{ident['scheme']}:{ident['value']}" if ident.get("scheme") else ident["value"]
        return f"name:{party['name']}"

    digest = hashlib.sha256()
    for part in (identity(order["seller"]), identity(order["buyer"]), order["order_number"]):
        digest.update(part.encode() + b"\x1f")
    readable = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "_" for c in order["order_number"])[:40]
    return f"{readable}-{digest.hexdigest()[:16]}"


@pytest.fixture(scope="module")
def integration():
    return props(translate(), "OrdersApi")["Body"]["paths"]["/orders/queue"]["post"]["x-amazon-apigateway-integration"]


def api_gateway_sends(aws, queue_url, integration, body, key, request_id):
    """What API Gateway does for one request once the validator let it through: render, sign
    with the integration's role (here moto's test credentials), POST to the queue's path."""
    form = render(
        integration["requestTemplates"]["application/json"],
        body,
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        request_id=request_id,
    ).encode()
    headers = {
        "Content-Type": integration["requestParameters"]["integration.request.header.Content-Type"].strip("'"),
        "Accept": integration["requestParameters"]["integration.request.header.Accept"].strip("'"),
    }
    request = AWSRequest(method="POST", url=queue_url, data=form, headers=headers)
    credentials = boto3.session.Session().get_credentials()
    SigV4Auth(credentials, "sqs", aws["sqs"].meta.region_name).add_auth(request)
    prepared = urllib.request.Request(queue_url, data=form, headers=dict(request.headers.items()), method="POST")
    with urllib.request.urlopen(prepared, timeout=30) as response:
        return response.status, response.read().decode()


def test_the_key_derivation_here_is_the_services():
    assert derive_key(SAMPLE) == SAMPLE["order_key"]


def test_a_queued_order_arrives_once_and_the_queue_reader_registers_it(aws, resources, invoke, integration, tmp_path):
    order = dict(SAMPLE, order_number="API-Q-0001", note="vía API Gateway: 1+1=2 & 100% \"ok\"\nsegunda línea")
    order["order_key"] = derive_key(order)
    body = json.dumps(order, ensure_ascii=False, indent=1)
    # A queue of this test's own, so that what is on it is what API Gateway sent.
    name = f"invoke-orders-queue-route-{time.time_ns()}.fifo"
    queue = aws["sqs"].create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    answers = [
        api_gateway_sends(aws, queue, integration, body, "client-key-0001", f"req-{attempt}") for attempt in (1, 2)
    ]
    assert [status for status, _ in answers] == [200, 200], answers

    received = aws["sqs"].receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
    ).get("Messages", [])
    assert len(received) == 1, f"the same Idempotency-Key within the window is queued once: {received}"
    message = received[0]
    # moto answers the query protocol in XML whatever Accept says; SQS answers JSON when asked,
    # the shape the response template reads (rendered in tests/template/test_orders_queue.py).
    sent_id = ElementTree.fromstring(answers[0][1]).find(".//{*}MessageId").text
    assert sent_id == message["MessageId"]
    assert message["Attributes"]["MessageDeduplicationId"] == "client-key-0001"
    command = json.loads(message["Body"])
    assert command["command"] == "register" and command["source"] == "api-gateway:POST /orders/queue req-1"
    assert message["Body"].endswith('"order":' + body + "}"), "the order went in byte for byte"

    event = {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {k: message["Attributes"][k] for k in ("MessageGroupId", "MessageDeduplicationId", "ApproximateReceiveCount")},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:invoke-orders.fifo",
                "awsRegion": "us-west-2",
            }
        ]
    }
    event_file = tmp_path / "orders-queue-batch.json"
    event_file.write_text(json.dumps(event))
    assert invoke("queue-reader", event_file)["batchItemFailures"] == []
    item = aws["dynamodb"].get_item(TableName=resources["table"], Key={"pk": {"S": order["order_key"]}}).get("Item")
    assert item, "the queue reader registered the order through the state router"
    record = json.loads(gzip.decompress(item["record"]["B"]))  # the stored record, gzipped JSON
    assert record["source"] == "api-gateway:POST /orders/queue req-1", "it names where it came from"
    assert record["order"] == order, "registered as sent"
