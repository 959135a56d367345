"""The order poller: a schedule per polled connection with retries and a dead-letter queue, a
least-privilege function and scheduler role, the cursor table, and alarms on what can fail."""

import json

import pytest

import connections
from translate import REPO_ROOT, function_statements, iam_statements, is_get_att, is_ref, load_sam_template, names, props, resources_of_type

POLLER = "OrderPollerFunction"
SCHEDULE_DLQ = "OrderPollerScheduleDeadLetterQueue"


def _configured_sources():
    """The deployed connections whose app version has a poll trigger."""
    return [c["id"] for c in connections.with_part("poll")]


@pytest.fixture(scope="module")
def schedules(cfn):
    every = [s["Properties"] for s in resources_of_type(cfn, "AWS::Scheduler::Schedule").values()]
    # The catalogue sync has a schedule of its own (test_catalog_sync.py).
    found = {s["Name"]["Fn::Sub"]: s for s in every if is_get_att(s["Target"]["Arn"], POLLER)}
    assert found, "no schedules"
    return found


def test_every_configured_source_has_one_schedule_naming_it(schedules):
    sources = _configured_sources()
    assert len(sources) == 3
    assert sorted(schedules) == sorted(f"orderflow-${{Stage}}-poll-{s}" for s in sources)
    for name, schedule in schedules.items():
        source = name.rsplit("-poll-", 1)[1]
        assert json.loads(schedule["Target"]["Input"]["Fn::Sub"]) == {"source": source}


def test_each_schedule_has_a_rate_a_flexible_window_retries_and_a_dead_letter_queue(schedules):
    for name, schedule in schedules.items():
        assert schedule["ScheduleExpression"] == {"Fn::Sub": "rate(${PollRateMinutes} minutes)"}, name
        assert schedule["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1}, name
        target = schedule["Target"]
        assert is_get_att(target["Arn"], POLLER), name
        assert is_get_att(target["RoleArn"], "OrderPollerSchedulerRole"), name
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1, name
        assert 60 <= target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 300, name
        assert is_get_att(target["DeadLetterConfig"]["Arn"], SCHEDULE_DLQ), name


def test_the_scheduler_role_may_only_invoke_the_poller_and_park_in_its_queue(cfn):
    role = props(cfn, "OrderPollerSchedulerRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    statements = [s for where, s in iam_statements(cfn) if where.startswith("OrderPollerSchedulerRole")]
    granted = {(s["Action"], json.dumps(s["Resource"], sort_keys=True)) for s in statements}
    assert granted == {
        ("lambda:InvokeFunction", json.dumps({"Fn::GetAtt": [POLLER, "Arn"]})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": [SCHEDULE_DLQ, "Arn"]})),
    }


def test_the_poller_may_queue_read_and_save_cursors_and_read_its_secrets_only(cfn):
    statements = function_statements(cfn, POLLER)
    granted = {}
    for s in statements:
        granted.setdefault(s["Action"], []).append(s["Resource"])
    assert sorted(granted) == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "sqs:SendMessage", "ssm:GetParameter"]
    assert all(is_get_att(r, "PollCursorsTable") for r in granted["dynamodb:GetItem"] + granted["dynamodb:PutItem"])
    assert [r for r in granted["dynamodb:Scan"] if not is_get_att(r, "AppsTable")] == []
    assert sorted(r["Fn::GetAtt"][0] for r in granted["sqs:SendMessage"]) == ["ErpSyncQueue", "OrdersQueue"]
    # A partner's key under poll/, a shop's credential under shops/ (shared with shop-sync).
    ssm = sorted(r["Fn::Sub"].rsplit(":parameter", 1)[1] for r in granted["ssm:GetParameter"])
    assert ssm == ["/orderflow/${Stage}/poll/*", "/orderflow/${Stage}/shops/*"]


def test_the_poller_reads_its_connections_and_resources_from_the_template(cfn):
    variables = props(cfn, POLLER)["Environment"]["Variables"]
    assert is_ref(variables["APPS_TABLE"], "AppsTable")
    assert "POLL_SOURCES_JSON" not in variables
    assert is_ref(variables["POLL_CURSOR_TABLE"], "PollCursorsTable")
    assert is_ref(variables["ERP_SYNC_QUEUE_URL"], "ErpSyncQueue")
    assert is_ref(variables["ORDERS_QUEUE_URL"], "OrdersQueue")
    metadata = load_sam_template()["Resources"][POLLER]["Metadata"]
    assert metadata["BuildMethod"] == "rust-cargolambda"
    assert metadata["BuildProperties"]["Binary"] == "order-poller"
    assert (REPO_ROOT / "functions" / "order-poller" / "src" / "main.rs").is_file()


def test_the_schedules_loop_over_a_parameter_whose_default_is_every_polled_connection():
    template = load_sam_template()
    parameter = template["Parameters"]["PollConnections"]
    assert parameter["Type"] == "CommaDelimitedList"
    default = parameter["Default"].split(",")
    # Both ways: a polled connection without a schedule is never polled, a schedule of a
    # connection without a poll trigger fails every run.
    assert sorted(default) == sorted(_configured_sources())
    assert len(set(default)) == len(default)
    identifier, collection, _ = template["Resources"]["Fn::ForEach::PollSchedules"]
    assert (identifier, collection) == ("Source", {"Ref": "PollConnections"})


def test_the_cursor_table_is_keyed_by_source_name_recoverable_and_encrypted(cfn):
    table = props(cfn, "PollCursorsTable")
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_the_poller_errors_and_the_schedule_dlq_raise_alarms(cfn):
    alarms = [a["Properties"] for a in resources_of_type(cfn, "AWS::CloudWatch::Alarm").values()]
    on = lambda metric, target, attribute=None: [  # noqa: E731
        a for a in alarms if a["MetricName"] == metric and any(names(d["Value"], target, attribute) for d in a["Dimensions"])
    ]
    (errors,) = on("Errors", POLLER)
    assert is_ref(errors["Threshold"], "LambdaErrorsThreshold")
    (depth,) = on("ApproximateNumberOfMessagesVisible", SCHEDULE_DLQ, "QueueName")
    assert depth["Threshold"] == 0
    (age,) = on("ApproximateAgeOfOldestMessage", SCHEDULE_DLQ, "QueueName")
    assert is_ref(age["Threshold"], "ParkedMessageAgeThresholdSeconds")
    for alarm in (errors, depth, age):
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
