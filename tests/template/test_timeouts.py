"""Batches finish inside the function's time: for every queue a function consumes, the function
timeout covers one record's worst case (every outbound call at its timeout), and the queue's
visibility timeout is at least six function timeouts, as AWS recommends for SQS event sources.

One record's worst case is computed the way the Rust handlers compute it at run time (their
`worst_case_per_record`), from the constants read out of the Rust sources, so a change on either
side that breaks the arithmetic fails here."""

import re

import connections
from translate import REPO_ROOT, load_sam_template, props, resources_of_type


def _rust_seconds(path, name):
    """A `const NAME: Duration = Duration::from_secs(N);` of the Rust sources, in seconds."""
    text = (REPO_ROOT / path).read_text()
    match = re.search(rf"pub const {name}: Duration = Duration::from_secs\((\d+)\);", text)
    assert match, f"{name} not found in {path}"
    return int(match.group(1))


def _rust_u32(path, name):
    text = (REPO_ROOT / path).read_text()
    match = re.search(rf"pub const {name}: u32 = (\d+);", text)
    assert match, f"{name} not found in {path}"
    return int(match.group(1))


AWS_OPERATION = _rust_seconds("shared/src/adapters/aws/mod.rs", "OPERATION_TIMEOUT")
ERP_CALLS_PER_RECORD = _rust_u32("functions/webhook-bridge/src/worker.rs", "ERP_CALLS_PER_RECORD")
SHOP_CALLS_PER_RECORD = _rust_u32("functions/shop-sync/src/worker.rs", "SHOP_CALLS_PER_RECORD")
SHOP_MAX_WAIT = _rust_seconds("functions/shop-sync/src/worker.rs", "MAX_WAIT")


def _sqs_consumers(cfn):
    """(function, queue) for every event source mapping that reads an SQS queue."""
    pairs = []
    for mapping in resources_of_type(cfn, "AWS::Lambda::EventSourceMapping").values():
        arn = mapping["Properties"]["EventSourceArn"]
        if isinstance(arn, dict) and "Fn::GetAtt" in arn:
            source = arn["Fn::GetAtt"][0]
            if cfn["Resources"][source]["Type"] == "AWS::SQS::Queue":
                pairs.append((mapping["Properties"]["FunctionName"]["Ref"], source))
    return pairs


def _worst_case_per_record(cfn, function):
    env = props(cfn, function)["Environment"]["Variables"]
    if function == "QueueReaderFunction":
        # The claim-check read and the parking send, and the Orders API call.
        return int(env["API_TIMEOUT_MS"]) / 1000 + 2 * AWS_OPERATION
    if function == "ErpSyncWorkerFunction":
        # The connection the worker pushes to (ErpConnection), as deployed (config/connections.json).
        erp = connections.connection(load_sam_template()["Parameters"]["ErpConnection"]["Default"])
        return ERP_CALLS_PER_RECORD * connections.timeout_ms(erp, "erp") / 1000 + AWS_OPERATION
    if function == "ShopSyncFunction":
        # The shop calls twice (one repeat after a short Retry-After), the wait, and the store,
        # queue and park calls (`worst_case_per_record` in functions/shop-sync/src/worker.rs).
        shops = connections.with_part("shop")
        assert shops
        slowest = max(connections.timeout_ms(shop, "shop") for shop in shops) / 1000
        return 2 * SHOP_CALLS_PER_RECORD * slowest + SHOP_MAX_WAIT + 6 * AWS_OPERATION
    raise AssertionError(f"{function} reads a queue; give its worst case per record here")


def test_the_sqs_consumers_are_the_three_batch_handlers(cfn):
    consumers = _sqs_consumers(cfn)
    assert sorted(f for f, _ in consumers) == ["ErpSyncWorkerFunction", "QueueReaderFunction", "ShopSyncFunction"], consumers


def test_each_function_timeout_covers_one_record_at_its_worst(cfn):
    consumers = _sqs_consumers(cfn)
    assert consumers
    for function, _ in consumers:
        timeout = props(cfn, function)["Timeout"]
        worst = _worst_case_per_record(cfn, function)
        assert worst <= timeout, f"{function}: one record may take {worst} s, the function has {timeout} s"


def test_each_queue_lets_six_function_timeouts_pass_before_a_message_is_visible_again(cfn):
    consumers = _sqs_consumers(cfn)
    assert consumers
    for function, queue in consumers:
        timeout = props(cfn, function)["Timeout"]
        visibility = props(cfn, queue)["VisibilityTimeout"]
        assert visibility >= 6 * timeout, f"{queue}: {visibility} s for {function}'s {timeout} s"


def test_the_rust_constants_are_found_and_plausible():
    assert 0 < AWS_OPERATION <= 10
    assert ERP_CALLS_PER_RECORD >= 2, "at least the lookup by reference and the create"
