"""Creates what the functions need in moto and prints their environment as one JSON object.

usage: lambda-env.py > env.json   (AWS_ENDPOINT_URL must point at a running moto server)

`{runtime_api}` in a value is replaced by the harness with its Runtime API address, which also
stands in for the Orders API and the DTE provider. The connections are the local ones in an apps
table (tests/lambda/apps_seed.py, shared with the lambda tests); the ERP is a closed port: the
worker's invocations take the "ERP down, park in the DLQ" path.
"""

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
sys.dont_write_bytecode = True  # no __pycache__ in tests/lambda from this import
_SEED = importlib.util.spec_from_file_location("apps_seed", REPO / "tests" / "lambda" / "apps_seed.py")
apps_seed = importlib.util.module_from_spec(_SEED)
_SEED.loader.exec_module(apps_seed)

BUCKET = "orderflow-local-orders"  # named in events/xml-order-converter-s3-put.json
ORDER_KEY = "incoming/small-clp.xml"  # the object that event announces
SENDER = "orders@example.com"
FIFO = {"FifoQueue": "true", "VisibilityTimeout": "180"}


def main():
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    session = boto3.session.Session(region_name=os.environ.get("AWS_REGION", "us-west-2"))
    s3, sqs, dynamodb, secrets, ssm, ses = (
        session.client(name, endpoint_url=endpoint)
        for name in ("s3", "sqs", "dynamodb", "secretsmanager", "ssm", "sesv2")
    )
    run = f"bench-{int(time.time() * 1000)}"
    try:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": session.region_name})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=BUCKET, Key=ORDER_KEY, Body=(REPO / "events" / "orders" / "small-clp.xml").read_bytes())
    queue = lambda name: sqs.create_queue(QueueName=f"{run}-{name}.fifo", Attributes=FIFO)["QueueUrl"]  # noqa: E731
    table = f"{run}-orders"
    keys = ("pk", "state", "state_sort")
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-state",
            "KeySchema": [{"AttributeName": "state", "KeyType": "HASH"}, {"AttributeName": "state_sort", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )
    dedup = f"{run}-webhook-dedup"
    dynamodb.create_table(
        TableName=dedup,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    ses.create_email_identity(EmailIdentity=SENDER)
    apps = apps_seed.seed(dynamodb, ssm, f"{run}-apps", properties={
        "business-central": {"environment_url": "http://127.0.0.1:9", "token_url": "http://127.0.0.1:9/token"},
    })
    secret = lambda name: secrets.create_secret(Name=f"{run}-{name}", SecretString="local")["ARN"]  # noqa: E731
    env = {
        "ORDERS_BUCKET": BUCKET,
        "ORDERS_QUEUE_URL": queue("orders"),
        "PENDING_QUEUE_URL": queue("pending"),
        "ERP_SYNC_QUEUE_URL": queue("erp-sync"),
        "ERP_DLQ_URL": queue("erp-dlq"),
        "ORDERS_TABLE": table,
        "DEDUP_TABLE": dedup,
        "DTE_BASE_URL": "http://{runtime_api}/dte",
        "DTE_TOKEN_REF": f"secretsmanager:{secret('dte-token')}",
        "ORDERS_API_URL": "http://{runtime_api}/orders-api",
        "ORDERS_API_KEY_REF": f"secretsmanager:{secret('api-key')}",
        "EMAIL_SENDER": SENDER,
        "EMAIL_CONFIGURATION_SET": "orderflow-local",
        "APPS_TABLE": apps,
        "ERP_CONNECTION": "business-central",
        "RECOVERY_STATE_MACHINE_ARN": "arn:aws:states:us-west-2:123456789012:stateMachine:bench-recovery",
        "OPS_ALERT_EMAIL": "ops@example.com",
        "ALERT_SENDER": SENDER,
    }
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        env[name] = os.environ[name]
    print(json.dumps(env, indent=1))


if __name__ == "__main__":
    main()
