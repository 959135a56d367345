"""Warm-duration peer: what each function's warm invocation takes when written in Python + boto3.

usage: lambda_warm.py ITERATIONS OUT_JSON        (AWS_ENDPOINT_URL points at moto)

Each function below makes the same AWS calls, in the same order, as the Rust function makes on
one order's happy path (the calls `bench/src/bin/bill.rs` records), and does the same kind of
work between them (XML to JSON, gzip'd JSON records, HMAC, the email's MIME). HTTP calls to the
Orders API, the DTE provider and the ERP go to a local stub that answers at once, as in
`bench/lambda.sh`'s warm runs. Clients are created once, at module level, as Python handlers
do; every invocation after three warm-up ones is timed. Written for this benchmark: a peer of
the same shape, not a port of the handlers.
"""

import base64
import gzip
import hashlib
import hmac
import json
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import boto3
import xmltodict

ROOT = Path(__file__).resolve().parents[3]
RUN = uuid.uuid4().hex[:8]
s3 = boto3.client("s3")
sqs = boto3.client("sqs")
dynamodb = boto3.client("dynamodb")
ses = boto3.client("sesv2")


class Stub(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b'{"folio":"F-1","track_id":"T-1"}'
        self.send_response(201)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def post(url, payload):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"content-type": "application/json", "x-api-key": "k"})
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


def setup():
    bucket, table, dedup = f"peer-{RUN}", f"peer-orders-{RUN}", f"peer-webhooks-{RUN}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    queue = sqs.create_queue(QueueName=f"peer-{RUN}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    key = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    for name in (table, dedup):
        dynamodb.create_table(TableName=name, KeySchema=key, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST")
    ses.create_email_identity(EmailIdentity="orders@example.com")
    server = HTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return bucket, queue, table, dedup, f"http://127.0.0.1:{server.server_port}"


def record_item(pk, record, version):
    blob = gzip.compress(json.dumps(record).encode())
    return {"pk": {"S": pk}, "state": {"S": record["state"]}, "version": {"N": str(version)},
            "state_at": {"S": record["state_at"]}, "record": {"B": blob}}


def main():
    iterations, out = int(sys.argv[1]), sys.argv[2]
    bucket, queue, table, dedup, stub = setup()
    xml = (ROOT / "events/orders/small-clp.xml").read_bytes()
    webhook = (ROOT / "events/webhooks/shopify-order-created.json").read_bytes()
    secret = b"peer-secret"
    s3.put_object(Bucket=bucket, Key="incoming/order.xml", Body=xml)
    counter = iter(range(10**9))

    def converter():
        body = s3.get_object(Bucket=bucket, Key="incoming/order.xml")["Body"].read()
        order = xmltodict.parse(body)
        text = json.dumps({"source": "s3", "order": order})
        sqs.send_message(QueueUrl=queue, MessageBody=text, MessageGroupId="g",
                         MessageDeduplicationId=hashlib.sha256(text.encode()).hexdigest())

    def queue_reader():
        post(f"{stub}/prod/orders", {"order_key": "K", "stage": "issuance_dte"})

    order = xmltodict.parse(xml)
    pk = f"order-{RUN}"
    record = {"state": "registered", "state_at": "2026-12-03T00:00:00.000Z", "order": order,
              "history": [{"to": "registered", "at": "2026-12-03T00:00:00.000Z", "by": "POST /orders"}]}
    dynamodb.put_item(TableName=table, Item=record_item(pk, record, 1))

    def state_router():
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)["Item"]
        version = int(item["version"]["N"])
        current = json.loads(gzip.decompress(item["record"]["B"]))
        dte = post(f"{stub}/dte/issue", {"order": pk})
        current["dte"] = dte
        current["history"] = current["history"][-3:] + [{"to": "issuance_dte", "by": "router", "detail": dte["folio"]}]
        put = {"TableName": table, "Item": record_item(pk, current, version + 1),
               "ConditionExpression": "#v = :v", "ExpressionAttributeNames": {"#v": "version"},
               "ExpressionAttributeValues": {":v": {"N": str(version)}}}
        count = {"TableName": table, "Key": {"pk": {"S": "counts#0"}}, "UpdateExpression": "ADD #n :one",
                 "ExpressionAttributeNames": {"#n": "n_issuance_dte"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}
        day = {"TableName": table, "Key": {"pk": {"S": "days#2026-12-03"}}, "UpdateExpression": "ADD #n :one",
               "ExpressionAttributeNames": {"#n": "issued"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}
        dynamodb.transact_write_items(TransactItems=[{"Put": put}, {"Update": count}, {"Update": day}])
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"order_key": pk, "stage": "broadcast_dte"}),
                         MessageGroupId=pk, MessageDeduplicationId=str(next(counter)))

    def email_notifier():
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)["Item"]
        version = int(item["version"]["N"])
        current = json.loads(gzip.decompress(item["record"]["B"]))
        condition = {"ConditionExpression": "#v = :v", "ExpressionAttributeNames": {"#v": "version"},
                     "ExpressionAttributeValues": {":v": {"N": str(version)}}}
        current["notification_claim"] = {"token": uuid.uuid4().hex}
        dynamodb.put_item(TableName=table, Item=record_item(pk, current, version + 1), **condition)
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "orders@example.com", "buyer@example.cl", "Your order"
        lines = "".join(f"<li>{line}</li>" for line in range(3))
        mail.set_content("Your order is being processed")
        mail.add_alternative(f"<html><body><ul>{lines}</ul></body></html>", subtype="html")
        ses.send_email(FromEmailAddress="orders@example.com", Destination={"ToAddresses": ["buyer@example.cl"]},
                       Content={"Raw": {"Data": mail.as_bytes()}})
        current.pop("notification_claim")
        condition["ExpressionAttributeValues"][":v"]["N"] = str(version + 1)
        dynamodb.put_item(TableName=table, Item=record_item(pk, current, version + 2), **condition)

    def webhook_bridge():
        signature = base64.b64encode(hmac.new(secret, webhook, hashlib.sha256).digest())
        expected = base64.b64encode(hmac.new(secret, webhook, hashlib.sha256).digest())
        assert hmac.compare_digest(signature, expected)
        event = json.loads(webhook)
        claim = f"shopify#order/{event['id']}-{next(counter)}"
        dynamodb.put_item(TableName=dedup, Item={"pk": {"S": claim}, "status": {"S": "in_progress"}},
                          ConditionExpression="attribute_not_exists(pk)")
        text = json.dumps({"order": event})
        for group in ("erp", "orders"):
            sqs.send_message(QueueUrl=queue, MessageBody=text, MessageGroupId=group,
                             MessageDeduplicationId=f"{claim}-{group}")
        dynamodb.update_item(TableName=dedup, Key={"pk": {"S": claim}}, UpdateExpression="SET #s = :c",
                             ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":c": {"S": "completed"}})

    def erp_sync_worker():
        post(f"{stub}/erp/orders", json.loads(webhook))

    functions = {"xml-order-converter": converter, "queue-reader": queue_reader, "state-router": state_router,
                 "email-notifier": email_notifier, "webhook-bridge": webhook_bridge,
                 "erp-sync-worker": erp_sync_worker}
    results = {}
    for name, function in functions.items():
        samples = []
        for i in range(iterations + 3):
            start = time.perf_counter()
            function()
            if i >= 3:
                samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        at = lambda q: samples[round((len(samples) - 1) * q)]
        results[name] = {"runs": len(samples), "median": statistics.median(samples), "p10": at(0.1), "p90": at(0.9)}
    Path(out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
