"""catalog-sync (issue 18): its schedule, staging and request log tables, least privilege, and
the alarms on failed runs."""

import pytest

from translate import function_statements, is_get_att, is_ref, props, resources_of_type

FUNCTION = "CatalogSyncFunction"


@pytest.fixture(scope="module")
def statements(cfn):
    return function_statements(cfn, FUNCTION)


def test_the_schedule_runs_both_phases_with_a_flexible_window_retries_and_a_dead_letter_queue(cfn):
    schedules = [r["Properties"] for r in resources_of_type(cfn, "AWS::Scheduler::Schedule").values()]
    (schedule,) = [s for s in schedules if is_get_att(s["Target"]["Arn"], FUNCTION)]
    assert is_ref(schedule["ScheduleExpression"], "CatalogSyncScheduleExpression")
    window = schedule["FlexibleTimeWindow"]
    assert window["Mode"] == "FLEXIBLE" and 0 < window["MaximumWindowInMinutes"] <= 15
    target = schedule["Target"]
    assert is_get_att(target["Arn"], FUNCTION)
    assert target["Input"].replace(" ", "") == '{"phase":"both"}'
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert is_get_att(target["DeadLetterConfig"]["Arn"], "CatalogSyncDeadLetterQueue")
    assert is_get_att(target["RoleArn"], "CatalogSyncSchedulerRole")


def test_the_scheduler_role_may_only_invoke_the_function_and_dead_letter(cfn):
    role = props(cfn, "CatalogSyncSchedulerRole")
    (principal,) = [s["Principal"]["Service"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
    assert principal == "scheduler.amazonaws.com"
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert {(s["Action"], list(s["Resource"].values())[0][0]) for s in statements} == {
        ("lambda:InvokeFunction", FUNCTION),
        ("sqs:SendMessage", "CatalogSyncDeadLetterQueue"),
    }


def test_the_staging_table_has_the_sparse_list_index_point_in_time_recovery_and_encryption(cfn):
    table = props(cfn, "CatalogStagingTable")
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "list-index"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["list", "order"]
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_the_request_log_expires_by_ttl_and_is_encrypted(cfn):
    table = props(cfn, "CatalogAuditTable")
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_every_statement_is_one_action_on_one_resource_of_its_own_tables_and_parameters(statements):
    for s in statements:
        assert isinstance(s["Action"], str), s
        assert not isinstance(s["Resource"], list), s
        assert s["Resource"] != "*", s
    actions = {s["Action"] for s in statements}
    assert not any(a.endswith("*") for a in actions)
    assert "dynamodb:DeleteTable" not in actions and "dynamodb:UpdateTable" not in actions
    ssm = [str(s["Resource"]) for s in statements if s["Action"] == "ssm:GetParameter"]
    assert len(ssm) == 3 and all("/orderflow/${Stage}/" in r for r in ssm), ssm


def test_one_run_at_a_time_with_a_timeout_for_a_large_first_sync(cfn):
    function = props(cfn, FUNCTION)
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["Timeout"] == 900
    env = function["Environment"]["Variables"]
    assert env["CATALOG_CONFIG_REF"]["Fn::Sub"].startswith("ssm:/orderflow/${Stage}/catalog/")


def test_failed_runs_and_refused_skus_raise_alarms(cfn):
    alarms = {r["Properties"]["MetricName"]: r["Properties"] for r in resources_of_type(cfn, "AWS::CloudWatch::Alarm").values()}
    for metric in ["CatalogRunsFailed", "CatalogItemsRefused"]:
        alarm = alarms[metric]
        assert alarm["Namespace"] == "orderflow" and alarm["Threshold"] == 0
        assert alarm["Dimensions"] == [{"Name": "Function", "Value": "catalog-sync"}]
    errors = [r["Properties"] for r in resources_of_type(cfn, "AWS::CloudWatch::Alarm").values() if r["Properties"]["MetricName"] == "Errors"]
    assert any(FUNCTION in str(a["Dimensions"]) for a in errors), "the function's Errors alarm"
