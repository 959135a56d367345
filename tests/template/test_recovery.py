"""The broadcast recovery workflow in the template: what it may invoke, and who watches it."""

import json

from translate import REPO_ROOT, as_list, is_get_att, is_ref, names, props, resources_of_type

MACHINE = "BroadcastRecoveryStateMachine"
TASK_FUNCTIONS = {"ErrorHandlerFunction", "BroadcastRetryFunction"}


def _machine_role(cfn):
    role = props(cfn, MACHINE)["RoleArn"]
    return as_list(role["Fn::GetAtt"])[0].split(".")[0]


def _statements(cfn, role_id):
    for policy in props(cfn, role_id).get("Policies", []):
        yield from as_list(policy["PolicyDocument"]["Statement"])


def test_the_definition_is_the_asl_file_with_both_function_arns_substituted(cfn):
    machine = props(cfn, MACHINE)
    subs = machine["DefinitionSubstitutions"]
    assert is_get_att(subs["ErrorHandlerFunctionArn"], "ErrorHandlerFunction")
    assert is_get_att(subs["BroadcastRetryFunctionArn"], "BroadcastRetryFunction")
    definition = json.loads((REPO_ROOT / "statemachines" / "broadcast-recovery.asl.json").read_text())
    resources = {s["Resource"] for s in definition["States"].values() if s["Type"] == "Task"}
    assert resources == {"${ErrorHandlerFunctionArn}", "${BroadcastRetryFunctionArn}"}


def test_every_task_retries_lambda_service_errors_and_catches_to_a_failure_path():
    definition = json.loads((REPO_ROOT / "statemachines" / "broadcast-recovery.asl.json").read_text())
    for name, state in definition["States"].items():
        if state["Type"] != "Task":
            continue
        retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
        assert "Lambda.ServiceException" in retried, name
        assert [c["ErrorEquals"] for c in state["Catch"]] == [["States.ALL"]], name
        assert definition["States"][state["Catch"][0]["Next"]]["Type"] in ("Task", "Fail"), name


def test_the_state_machine_may_invoke_exactly_the_two_task_functions_and_nothing_else(cfn):
    statements = list(_statements(cfn, _machine_role(cfn)))
    assert {a for s in statements for a in as_list(s["Action"])} == {"lambda:InvokeFunction"}
    targets = [r for s in statements for r in as_list(s["Resource"])]
    assert len(targets) == 2
    assert {fn for fn in TASK_FUNCTIONS if any(is_get_att(r, fn) for r in targets)} == TASK_FUNCTIONS
    assert not props(cfn, _machine_role(cfn)).get("ManagedPolicyArns")


def test_only_the_router_and_the_portal_may_start_the_workflow_and_only_this_one(cfn):
    starters = []
    for role_id in resources_of_type(cfn, "AWS::IAM::Role"):
        for s in _statements(cfn, role_id):
            if "states:StartExecution" in as_list(s["Action"]):
                starters.append(role_id)
                assert [is_ref(r, MACHINE) for r in as_list(s["Resource"])] == [True], s
    # The portal too: an operator's retry of a broadcast runs the router's stage code, which hands
    # a failure back to the workflow.
    assert sorted(starters) == ["BackofficeFunctionRole", "StateRouterFunctionRole"]


def test_the_error_handler_alerts_as_the_sender_and_is_behind_the_api_key(cfn):
    actions = {a for s in _statements(cfn, "ErrorHandlerFunctionRole") for a in as_list(s["Action"])}
    # UpdateItem: the per-state counters a transition moves (limited to them: test_template.py).
    assert actions == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "ses:SendEmail"}
    env = props(cfn, "ErrorHandlerFunction")["Environment"]["Variables"]
    assert is_ref(env["OPS_ALERT_EMAIL"], "OpsAlertEmail")
    assert is_ref(env["BROADCAST_MAX_ATTEMPTS"], "BroadcastMaxAttempts")
    route = props(cfn, "OrdersApi")["Body"]["paths"]["/errors"]["post"]
    assert route["security"] == [{"api_key": []}]
    assert "${ErrorHandlerFunction.Arn}" in route["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]

def _alarm(cfn, namespace, metric):
    found = [
        a["Properties"]
        for a in resources_of_type(cfn, "AWS::CloudWatch::Alarm").values()
        if (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) == (namespace, metric)
    ]
    assert found, f"no alarm on {namespace} {metric}"
    return found


def test_failed_executions_and_the_pending_queue_raise_alarms(cfn):
    [failed] = _alarm(cfn, "AWS/States", "ExecutionsFailed")
    assert is_ref(failed["Dimensions"][0]["Value"], MACHINE)
    for metric in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"):
        pending = [a for a in _alarm(cfn, "AWS/SQS", metric) if names(a["Dimensions"][0]["Value"], "OrdersPendingQueue", "QueueName")]
        assert len(pending) == 1, metric
        assert pending[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert failed["AlarmActions"] == [{"Ref": "AlarmTopic"}]
