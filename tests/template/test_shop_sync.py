"""shop-sync's two triggers (the orders stream, its FIFO queue), its queues, alarms and the
least privilege of its role."""

import json

import pytest

from translate import as_list, function_statements, is_get_att, is_ref, names, props, resources_of_type

SHOP_SYNC = "ShopSyncFunction"
ACTION_STATES = ["cancelled", "delivered", "dispatched", "refunded"]


def _mappings(cfn):
    return [
        m["Properties"]
        for m in resources_of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
        if is_ref(m["Properties"]["FunctionName"], SHOP_SYNC)
    ]


@pytest.fixture(scope="module")
def stream(cfn):
    (mapping,) = [m for m in _mappings(cfn) if is_get_att(m["EventSourceArn"], "OrdersTable", "StreamArn")]
    return mapping


@pytest.fixture(scope="module")
def statements(cfn):
    return function_statements(cfn, SHOP_SYNC)


def test_the_stream_filter_passes_only_entries_into_the_action_states(stream):
    filters = stream["FilterCriteria"]["Filters"]
    assert len(filters) == len(ACTION_STATES)
    entered = []
    for f in filters:
        pattern = json.loads(f["Pattern"])["dynamodb"]
        (state,) = pattern["NewImage"]["state"]["S"]
        assert pattern["OldImage"] == {"state": {"S": [{"anything-but": [state]}]}}, "an entry, not a rewrite"
        entered.append(state)
    assert sorted(entered) == ACTION_STATES


def test_the_stream_step_reports_partial_failures_and_keeps_what_keeps_failing(stream):
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["BisectBatchOnFunctionError"] is True
    assert is_get_att(stream["DestinationConfig"]["OnFailure"]["Destination"], "ShopSyncStreamFailuresQueue")


def test_the_worker_reads_its_fifo_queue_whose_redrive_ends_in_the_dead_letter_queue(cfn):
    (queue_mapping,) = [m for m in _mappings(cfn) if is_get_att(m["EventSourceArn"], "ShopSyncQueue")]
    assert queue_mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = props(cfn, "ShopSyncQueue")
    assert queue["FifoQueue"] is True and queue["SqsManagedSseEnabled"] is True
    assert is_get_att(queue["RedrivePolicy"]["deadLetterTargetArn"], "ShopSyncDeadLetterQueue")
    assert props(cfn, "ShopSyncDeadLetterQueue")["FifoQueue"] is True, "operator tools read FIFO dead letters"


def test_every_statement_is_one_action_on_one_resource(statements):
    for s in statements:
        assert isinstance(s["Action"], str), s
        assert len(as_list(s["Resource"])) == 1 and s["Resource"] != "*", s


def test_the_role_writes_only_the_orders_table_and_sends_only_to_its_own_queues(statements):
    writes = [s for s in statements if s["Action"] in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")]
    assert [s["Action"] for s in writes] == ["dynamodb:PutItem"]
    assert is_get_att(writes[0]["Resource"], "OrdersTable")
    sends = sorted(s["Resource"]["Fn::GetAtt"][0] for s in statements if s["Action"] == "sqs:SendMessage")
    assert sends == ["ShopSyncDeadLetterQueue", "ShopSyncQueue", "ShopSyncStreamFailuresQueue"]
    (secrets,) = [s for s in statements if s["Action"] == "ssm:GetParameter"]
    assert secrets["Resource"]["Fn::Sub"].endswith(":parameter/orderflow/${Stage}/shops/*")


def test_the_shops_are_the_connections_of_the_apps_table_which_it_only_scans(cfn, statements):
    env = props(cfn, SHOP_SYNC)["Environment"]["Variables"]
    assert is_ref(env["APPS_TABLE"], "AppsTable")
    assert "SHOPS_JSON" not in env
    apps = [s for s in statements if "AppsTable" in json.dumps(s["Resource"])]
    assert [(s["Action"], is_get_att(s["Resource"], "AppsTable")) for s in apps] == [("dynamodb:Scan", True)]
    assert int(env["SHOP_CLAIM_TIMEOUT_SECONDS"]) > props(cfn, SHOP_SYNC)["Timeout"]


def test_errors_and_parked_actions_raise_alarms(cfn):
    alarms = [a["Properties"] for a in resources_of_type(cfn, "AWS::CloudWatch::Alarm").values()]
    assert alarms
    errors = [a for a in alarms if a["MetricName"] == "Errors" and any(names(d["Value"], SHOP_SYNC) for d in a["Dimensions"])]
    assert len(errors) == 1
    for queue in ("ShopSyncDeadLetterQueue", "ShopSyncStreamFailuresQueue"):
        depth = [
            a for a in alarms
            if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
            and any(names(d["Value"], queue, "QueueName") for d in a["Dimensions"])
        ]
        assert len(depth) == 1 and depth[0]["Threshold"] == 0, queue
