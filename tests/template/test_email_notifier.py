"""The email notifier's stream trigger, dead-letter queue, alarms and SES permissions."""

import json

import pytest

from translate import as_list, function_statements, is_get_att, is_ref, names, props, resources_of_type

NOTIFIER = "EmailNotifierFunction"


@pytest.fixture(scope="module")
def mapping(cfn):
    (mapping,) = [
        m["Properties"]
        for m in resources_of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
        if is_ref(m["Properties"]["FunctionName"], NOTIFIER)
    ]
    return mapping


def notifier_statements(cfn):
    return function_statements(cfn, NOTIFIER)


def test_notifier_reads_the_orders_stream_in_batches_with_partial_failures(mapping):
    assert is_get_att(mapping["EventSourceArn"], "OrdersTable", "StreamArn")
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_notifier_filter_passes_only_entries_into_issuance_dte(mapping):
    (only,) = mapping["FilterCriteria"]["Filters"]
    pattern = json.loads(only["Pattern"])["dynamodb"]
    assert pattern["NewImage"] == {"state": {"S": ["issuance_dte"]}}
    assert pattern["OldImage"] == {"state": {"S": [{"anything-but": ["issuance_dte"]}]}}


def test_notifier_bisects_failing_batches_and_dead_letters_what_keeps_failing(cfn, mapping):
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    assert is_get_att(mapping["DestinationConfig"]["OnFailure"]["Destination"], "EmailNotifierDeadLetterQueue")
    assert props(cfn, "EmailNotifierDeadLetterQueue")["SqsManagedSseEnabled"] is True
    sends = [s for s in notifier_statements(cfn) if s["Action"] == "sqs:SendMessage"]
    assert [is_get_att(s["Resource"], "EmailNotifierDeadLetterQueue") for s in sends] == [True]


def test_notifier_may_send_only_as_the_sender_through_the_configuration_set(cfn):
    ses = [s for s in notifier_statements(cfn) if any(a.startswith("ses:") for a in as_list(s["Action"]))]
    assert all(s["Action"] == "ses:SendEmail" for s in ses), ses
    resources = sorted(as_list(s["Resource"])[0]["Fn::Sub"] for s in ses)
    assert resources == [
        "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${EmailConfigurationSet}",
        "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${EmailSender}",
    ]


def test_notifier_reads_the_stream_with_one_scoped_action_per_statement(cfn):
    actions = ("dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams")
    stream = {s["Action"]: s["Resource"] for s in notifier_statements(cfn) if s["Action"] in actions}
    for action in ("dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream"):
        assert is_get_att(stream[action], "OrdersTable", "StreamArn"), action
    assert stream["dynamodb:ListStreams"] == {"Fn::Sub": "${OrdersTable.Arn}/stream/*"}


def test_notifier_environment_comes_from_the_parameters(cfn):
    env = props(cfn, NOTIFIER)["Environment"]["Variables"]
    assert is_ref(env["ORDERS_TABLE"], "OrdersTable")
    assert is_ref(env["EMAIL_SENDER"], "EmailSender")
    assert is_ref(env["EMAIL_CONFIGURATION_SET"], "EmailConfigurationSet")
    assert int(env["EMAIL_CLAIM_TIMEOUT_SECONDS"]) > props(cfn, NOTIFIER)["Timeout"]


def test_notifier_errors_and_its_dlq_raise_alarms(cfn):
    alarms = [a["Properties"] for a in resources_of_type(cfn, "AWS::CloudWatch::Alarm").values()]

    def alarm_on(metric, dimension_matches):
        return [
            a for a in alarms
            if a["MetricName"] == metric and any(dimension_matches(d["Value"]) for d in a["Dimensions"])
        ]

    errors = alarm_on("Errors", lambda v: names(v, NOTIFIER))
    dlq = alarm_on("ApproximateNumberOfMessagesVisible", lambda v: names(v, "EmailNotifierDeadLetterQueue", "QueueName"))
    for alarm in errors + dlq:
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert [is_ref(a, "AlarmTopic") for a in alarm["AlarmActions"]] == [True]
    assert len(errors) == 1 and len(dlq) == 1
    assert is_ref(errors[0]["Threshold"], "LambdaErrorsThreshold")
    assert dlq[0]["Threshold"] == 0, "the first parked record raises the alarm"
