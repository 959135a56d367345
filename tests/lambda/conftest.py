"""Fixtures for invoking the built functions with `cargo lambda` against moto.

`cargo lambda watch` plays the Lambda service: it builds the workspace's binaries (debug, the same
build `cargo test` made) and runs each on its first invoke. Every function gets the same
environment, pointing at resources created here in moto, at a local stand-in for the DTE
provider, and — for the queue reader — at the state router's function URL on the same watch
server. moto must be running (scripts/test starts it); without it these tests fail.
"""

import base64
import http.server
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pytest

import apps_seed

REPO = Path(__file__).resolve().parents[2]
BUCKET = "orderflow-local-orders"  # the bucket named in events/xml-order-converter-s3-put.json
SENDER = "orders@example.com"
LOCAL_SECRETS = json.loads((REPO / "config" / "local-secrets.json").read_text())
WOO_KEY = next(c for c in apps_seed.local_connections() if c["id"] == "woocommerce")["properties"]["consumer_key"]
# The connection the erp-sync worker pushes to (the template's ErpConnection default).
ERP_CONNECTION = "business-central"


def answer_json(handler, payload, headers=()):
    """A 200 with a JSON body, and any extra headers, from a stand-in's request handler."""
    handler.send_response(200)
    for name, value in (("content-type", "application/json"), ("content-length", str(len(payload))), *headers):
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(payload)


class FakeWooOrders(http.server.BaseHTTPRequestHandler):
    """WooCommerce's `GET /orders` for the poller: the sample webhook order, one page, with the
    consumer key and secret of the local woocommerce connection (the secret from moto's SSM)."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        expected = "Basic " + base64.b64encode(f"{WOO_KEY}:{LOCAL_SECRETS['woocommerce-consumer-secret']}".encode()).decode()
        if not self.path.startswith("/wp-json/wc/v3/orders?") or self.headers.get("authorization") != expected:
            self.send_response(401)
            self.end_headers()
            return
        payload = b"[" + (REPO / "events" / "webhooks" / "woocommerce-order-created.json").read_bytes() + b"]"
        answer_json(self, payload, (("x-wp-total", "1"), ("x-wp-totalpages", "1")))

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeDte(http.server.BaseHTTPRequestHandler):
    """The DTE provider's two calls, answering with ids derived from the idempotency key."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        key = self.headers.get("idempotency-key", "none")
        body = {"track_id": f"T-{key}"} if self.path.endswith("/broadcast") else {"folio": f"F-{key}"}
        answer_json(self, json.dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def aws():
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    assert endpoint, "AWS_ENDPOINT_URL is not set: run these tests through scripts/test, which starts moto"
    session = boto3.session.Session(region_name=os.environ.get("AWS_REGION", "us-west-2"))
    return {name: session.client(name, endpoint_url=endpoint) for name in ("s3", "sqs", "dynamodb", "secretsmanager", "sesv2", "ssm")}


def keyed_table(dynamodb, name):
    """A table keyed by a string `pk` alone (the webhook dedup and poll cursor tables); its name."""
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    return name


@pytest.fixture(scope="session")
def resources(aws, woo_url):
    suffix = str(int(time.time() * 1000))
    s3, sqs, dynamodb, secrets = aws["s3"], aws["sqs"], aws["dynamodb"], aws["secretsmanager"]
    try:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    fifo = {"FifoQueue": "true", "VisibilityTimeout": "180"}
    pending = sqs.create_queue(QueueName=f"invoke-pending-{suffix}.fifo", Attributes=fifo)["QueueUrl"]
    orders = sqs.create_queue(QueueName=f"invoke-orders-{suffix}.fifo", Attributes=fifo)["QueueUrl"]
    table = f"invoke-orders-{suffix}"
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "state", "state_sort")
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-state",
                "KeySchema": [
                    {"AttributeName": "state", "KeyType": "HASH"},
                    {"AttributeName": "state_sort", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    aws["sesv2"].create_email_identity(EmailIdentity=SENDER)
    erp_sync = sqs.create_queue(QueueName=f"invoke-erp-sync-{suffix}.fifo", Attributes=fifo)["QueueUrl"]
    erp_dlq = sqs.create_queue(QueueName=f"invoke-erp-dlq-{suffix}.fifo", Attributes=fifo)["QueueUrl"]
    shop_sync = sqs.create_queue(QueueName=f"invoke-shop-sync-{suffix}.fifo", Attributes=fifo)["QueueUrl"]
    shop_dlq = sqs.create_queue(QueueName=f"invoke-shop-dlq-{suffix}.fifo", Attributes=fifo)["QueueUrl"]
    dedup = keyed_table(dynamodb, f"invoke-webhook-dedup-{suffix}")
    ssm = aws["ssm"]
    # The app definitions and the local connections (their secrets in moto's SSM), WooCommerce
    # pointed at the stand-in the poller reads and Business Central at a closed port: the ERP is
    # down.
    apps = apps_seed.seed(dynamodb, ssm, f"invoke-apps-{suffix}", properties={
        "woocommerce": {"site_url": woo_url},
        "business-central": {"environment_url": "http://127.0.0.1:9", "token_url": "http://127.0.0.1:9/token"},
    })
    poll_cursors = keyed_table(dynamodb, f"invoke-poll-cursors-{suffix}")
    # catalog-sync: its staging table (with the sparse list-index), request log and configuration
    # parameter (the deployed one: its ERP and shop name connections seeded above).
    staging = f"invoke-catalog-staging-{suffix}"
    dynamodb.create_table(
        TableName=staging,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "list", "order")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "list-index",
                "KeySchema": [{"AttributeName": "list", "KeyType": "HASH"}, {"AttributeName": "order", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    catalog_audit = keyed_table(dynamodb, f"invoke-catalog-audit-{suffix}")
    catalog = json.loads((REPO / "config" / "catalog.json").read_text())
    ssm.put_parameter(Name="/orderflow/dev/catalog/config", Value=json.dumps(catalog), Type="SecureString", Overwrite=True)
    api_key = secrets.create_secret(Name=f"invoke-api-key-{suffix}", SecretString="local-invoke-key")["ARN"]
    dte_token = secrets.create_secret(Name=f"invoke-dte-token-{suffix}", SecretString="local-dte-token")["ARN"]
    return {
        "orders": orders, "pending": pending, "table": table, "api_key": api_key, "dte_token": dte_token,
        "erp_sync": erp_sync, "erp_dlq": erp_dlq, "dedup": dedup, "shop_sync": shop_sync, "shop_dlq": shop_dlq,
        "poll_cursors": poll_cursors, "apps": apps,
        "staging": staging, "catalog_audit": catalog_audit,
    }


@pytest.fixture(scope="session")
def woo_url():
    """The stand-in's origin: the woocommerce connection's site_url (its API under /wp-json/wc/v3)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeWooOrders)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def dte_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeDte)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def build_function(function):
    """Builds `function` as `cargo lambda watch` will run it, before its first invocation.

    Watch builds a function at its first invocation and, when that build fails (a compile error,
    a full disk), leaves the invocation waiting rather than answering it. Built here first, with
    the same `cargo build --bin` that watch's `cargo run --bin` then finds fresh, a failed build
    fails its case at once with the compiler's own message.
    """
    result = subprocess.run(["cargo", "build", "--bin", function], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, f"cargo build --bin {function}:\n{result.stderr[-4000:]}"


# Every function is built before its first invocation (build_function), so an invocation takes
# seconds; one that outlasts this has hung, and watch's log says why.
INVOKE_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def watch(resources, dte_url):
    port = free_port()
    env = {
        "ORDERS_BUCKET": BUCKET,
        "ORDERS_QUEUE_URL": resources["orders"],
        "PENDING_QUEUE_URL": resources["pending"],
        "ORDERS_TABLE": resources["table"],
        "DTE_BASE_URL": dte_url,
        "DTE_TOKEN_REF": f"secretsmanager:{resources['dte_token']}",
        "ORDERS_API_URL": f"http://127.0.0.1:{port}/lambda-url/state-router",
        "ORDERS_API_KEY_REF": f"secretsmanager:{resources['api_key']}",
        "EMAIL_SENDER": SENDER,
        # The connections of webhook-bridge, erp-sync-worker, order-poller, shop-sync and
        # catalog-sync, and the portal's apps page.
        "APPS_TABLE": resources["apps"],
        "ERP_CONNECTION": ERP_CONNECTION,
        "ERP_SYNC_QUEUE_URL": resources["erp_sync"],
        "DEDUP_TABLE": resources["dedup"],
        "ERP_DLQ_URL": resources["erp_dlq"],
        "EMAIL_CONFIGURATION_SET": "orderflow-local",
        "SHOP_SYNC_QUEUE_URL": resources["shop_sync"],
        "SHOP_SYNC_DLQ_URL": resources["shop_dlq"],
        "POLL_CURSOR_TABLE": resources["poll_cursors"],
        # The error handler and broadcast retry; the sample's broadcasts succeed, so the router
        # never starts this (absent) workflow.
        "RECOVERY_STATE_MACHINE_ARN": "arn:aws:states:us-west-2:123456789012:stateMachine:orderflow-local-broadcast-recovery",
        "OPS_ALERT_EMAIL": "ops@example.com",
        # The back-office portal: its hosted sign-in (never reached: the case checks the redirect)
        # and the authorizer's pool (its keys are never fetched for a request without a cookie).
        "CONSOLE_URL": "https://console.example.com/dev/console",
        "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH": "true",
        "COGNITO_DOMAIN_URL": "https://orderflow-dev.auth.us-west-2.amazoncognito.com",
        "COGNITO_CLIENT_ID": "local-portal-client",
        "COGNITO_ISSUER": "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_local",
        "COGNITO_JWKS_URL": "http://127.0.0.1:9/jwks.json",
        "STAGING_TABLE": resources["staging"],
        "CATALOG_AUDIT_TABLE": resources["catalog_audit"],
        "CATALOG_CONFIG_REF": "ssm:/orderflow/dev/catalog/config",
        "ALERT_SENDER": "orders@example.com",
    }
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_EC2_METADATA_DISABLED"):
        env[name] = os.environ[name]
    (REPO / ".cache").mkdir(exist_ok=True)
    log = open(REPO / ".cache" / "cargo-lambda-watch.log", "w")
    args = ["cargo", "lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port", str(port)]
    # Inherited rather than passed with --env-var, which splits values on commas.
    proc = subprocess.Popen(
        args, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        assert proc.poll() is None, f"cargo lambda watch exited; see {log.name}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        pytest.fail(f"cargo lambda watch did not listen on {port} within 120 s")
    yield port, Path(log.name)
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="session")
def invoke(watch):
    port, watch_log = watch
    built = set()

    def run(function, event_file, fails=False):
        if function not in built:
            build_function(function)
            built.add(function)
        try:
            result = subprocess.run(
                ["cargo", "lambda", "invoke", "--invoke-address", "127.0.0.1", "--invoke-port", str(port),
                 "--data-file", str(event_file), "--output-format", "json", function],
                cwd=REPO, capture_output=True, text=True, timeout=INVOKE_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"{function} {event_file.name}: no answer in {INVOKE_TIMEOUT_S} s; cargo lambda watch printed:\n"
                        + watch_log.read_text()[-4000:])
        if fails:
            # A function error (the authorizer's "Unauthorized"): cargo lambda exits non-zero.
            assert result.returncode != 0, f"{function} {event_file.name} succeeded: {result.stdout}"
            return {"error": result.stdout + result.stderr}
        assert result.returncode == 0, f"{function} {event_file.name}: {result.stderr[-2000:]}"
        return json.loads(result.stdout)

    return run
