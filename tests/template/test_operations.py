"""Alarms, log groups and the dashboard: every function, every parked-message queue and the API
are watched, every alarm reaches the alarm topic, and the dashboard names only metrics the Rust
code really emits."""

import json
import re

import pytest

from translate import REPO_ROOT, is_get_att, is_ref, names, props, resources_of_type

API_DIMENSIONS = [{"Name": "ApiName", "Value": {"Fn::Sub": "orderflow-${Stage}"}}, {"Name": "Stage", "Value": {"Ref": "Stage"}}]


def _alarms(cfn):
    return {name: a["Properties"] for name, a in resources_of_type(cfn, "AWS::CloudWatch::Alarm").items()}


def _functions(cfn):
    return sorted(resources_of_type(cfn, "AWS::Lambda::Function"))


def _alarms_on(cfn, namespace, metric, logical_id, attribute=None):
    return [
        a for a in _alarms(cfn).values()
        if (a["Namespace"], a["MetricName"]) == (namespace, metric)
        and any(names(d["Value"], logical_id, attribute) for d in a["Dimensions"])
    ]


def _parked_message_queues(cfn):
    """Every queue that receives what failed: redrive targets and on-failure destinations."""
    queues = set()
    for queue in resources_of_type(cfn, "AWS::SQS::Queue").values():
        if "RedrivePolicy" in queue["Properties"]:
            queues.add(queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0])
    for rtype in ("AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"):
        for resource in resources_of_type(cfn, rtype).values():
            destination = resource["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            if destination:
                queues.add(destination["Fn::GetAtt"][0])
    return queues


# --- every alarm ---------------------------------------------------------------------------------


def test_every_alarm_notifies_the_alarm_topic_whose_subscriber_is_a_parameter(cfn):
    for name, alarm in _alarms(cfn).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    (subscription,) = resources_of_type(cfn, "AWS::SNS::Subscription").values()
    assert is_ref(subscription["Properties"]["TopicArn"], "AlarmTopic")
    assert is_ref(subscription["Properties"]["Endpoint"], "AlarmEmail")


def test_cloudwatch_may_publish_to_the_encrypted_alarm_topic(cfn):
    key_id = props(cfn, "AlarmTopic")["KmsMasterKeyId"]
    assert is_ref(key_id, "AlarmTopicKey"), "the AWS managed aws/sns key does not let CloudWatch publish"
    statements = props(cfn, "AlarmTopicKey")["KeyPolicy"]["Statement"]
    (cloudwatch,) = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert props(cfn, "AlarmTopicKey")["EnableKeyRotation"] is True


# --- functions -----------------------------------------------------------------------------------


def test_every_function_has_an_errors_and_a_throttles_alarm_with_thresholds_from_parameters(cfn):
    functions = _functions(cfn)
    assert functions
    for fn in functions:
        for metric, threshold in (("Errors", "LambdaErrorsThreshold"), ("Throttles", "LambdaThrottlesThreshold")):
            alarms = _alarms_on(cfn, "AWS/Lambda", metric, fn)
            assert len(alarms) == 1, f"{fn}: {len(alarms)} {metric} alarms"
            assert is_ref(alarms[0]["Threshold"], threshold), fn
            assert alarms[0]["ComparisonOperator"] == "GreaterThanThreshold"


def test_every_function_logs_json_into_its_own_log_group_kept_per_stage(cfn):
    groups = resources_of_type(cfn, "AWS::Logs::LogGroup")
    used = []
    for fn in _functions(cfn):
        logging = props(cfn, fn)["LoggingConfig"]
        assert logging["LogFormat"] == "JSON", fn
        group = logging["LogGroup"]["Ref"]
        assert is_ref(groups[group]["Properties"]["RetentionInDays"], "LogRetentionDays"), group
        used.append(group)
    assert len(set(used)) == len(used), "two functions share a log group"


# --- queues that hold what failed -----------------------------------------------------------------


def test_every_async_path_ends_in_a_dead_letter_queue(cfn):
    consumed = {m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: m["Properties"]
                for m in resources_of_type(cfn, "AWS::Lambda::EventSourceMapping").values()}
    for source, mapping in consumed.items():
        if cfn["Resources"][source]["Type"] == "AWS::SQS::Queue":
            assert "RedrivePolicy" in props(cfn, source), f"{source} is consumed but never redriven"
        else:  # a stream: failed records go to the mapping's destination
            assert "OnFailure" in mapping["DestinationConfig"], f"the mapping on {source} drops what fails"
    # Asynchronous invocations (S3 notifications) end in an on-failure destination.
    invoke_configs = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
                      for c in resources_of_type(cfn, "AWS::Lambda::EventInvokeConfig").values()}
    notified = [c["Function"]["Fn::GetAtt"][0]
                for b in resources_of_type(cfn, "AWS::S3::Bucket").values()
                for c in b["Properties"].get("NotificationConfiguration", {}).get("LambdaConfigurations", [])]
    assert notified, "expected the converter's S3 trigger"
    for fn in notified:
        assert "OnFailure" in invoke_configs[fn]["DestinationConfig"], f"{fn} loses failed S3 events"


def test_every_dead_letter_queue_and_the_pending_queue_alarm_on_depth_and_age(cfn):
    queues = _parked_message_queues(cfn)
    assert {"OrdersPendingQueue", "ConverterDeadLetterQueue", "EmailNotifierDeadLetterQueue", "ErpDeadLetterQueue"} <= queues
    for queue in queues:
        (depth,) = _alarms_on(cfn, "AWS/SQS", "ApproximateNumberOfMessagesVisible", queue, "QueueName")
        assert depth["Threshold"] == 0 and depth["ComparisonOperator"] == "GreaterThanThreshold", queue
        (age,) = _alarms_on(cfn, "AWS/SQS", "ApproximateAgeOfOldestMessage", queue, "QueueName")
        assert is_ref(age["Threshold"], "ParkedMessageAgeThresholdSeconds"), queue


# --- API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric, statistic, threshold",
    [
        ("5XXError", {"Statistic": "Sum"}, "Api5xxErrorsThreshold"),
        ("4XXError", {"Statistic": "Average"}, "Api4xxErrorRateThreshold"),
        ("Latency", {"ExtendedStatistic": "p99"}, "ApiLatencyP99ThresholdMs"),
        ("IntegrationLatency", {"ExtendedStatistic": "p99"}, "ApiIntegrationLatencyP99ThresholdMs"),
    ],
)
def test_the_api_alarms_on_errors_and_p99_latency(cfn, metric, statistic, threshold):
    (alarm,) = [a for a in _alarms(cfn).values() if (a["Namespace"], a["MetricName"]) == ("AWS/ApiGateway", metric)]
    assert alarm["Dimensions"] == API_DIMENSIONS
    assert {k: alarm.get(k) for k in statistic} == statistic
    assert is_ref(alarm["Threshold"], threshold)


def test_the_api_stage_is_regional_with_json_access_logs_and_method_metrics(cfn):
    api = props(cfn, "OrdersApi")
    assert api["EndpointConfiguration"]["Types"] == ["REGIONAL"]
    assert props(cfn, "OrdersApi")["Name"] == {"Fn::Sub": "orderflow-${Stage}"}, "the alarms' ApiName dimension"
    (stage,) = resources_of_type(cfn, "AWS::ApiGateway::Stage").values()
    stage = stage["Properties"]
    assert is_ref(stage["StageName"], "Stage")
    assert is_get_att(stage["AccessLogSetting"]["DestinationArn"], "ApiAccessLogGroup")
    fields = json.loads(stage["AccessLogSetting"]["Format"])
    assert {"requestId", "status", "apiKeyId", "resourcePath"} <= set(fields)
    assert "$context.identity.apiKey" not in fields.values(), "the key's value must not be logged"
    assert [s["MetricsEnabled"] for s in stage["MethodSettings"]] == [True]
    assert stage["MethodSettings"][0]["DataTraceEnabled"] is False
    assert is_ref(props(cfn, "ApiAccessLogGroup")["RetentionInDays"], "LogRetentionDays")


# --- dashboard -----------------------------------------------------------------------------------


def _dashboard_metrics(cfn):
    (dashboard,) = resources_of_type(cfn, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    for widget in widgets:
        for metric in widget["properties"]["metrics"]:
            yield [part for part in metric if not isinstance(part, dict)]


def _rust_sources():
    return {path: path.read_text(encoding="utf-8") for root in ("functions", "shared") for path in (REPO_ROOT / root).rglob("*.rs")}


@pytest.fixture(scope="module")
def emf_metrics(cfn):
    return [m for m in _dashboard_metrics(cfn) if m[0] == "orderflow"]


def test_every_emf_metric_on_the_dashboard_is_counted_by_that_function(emf_metrics):
    telemetry = (REPO_ROOT / "shared" / "src" / "telemetry.rs").read_text(encoding="utf-8")
    assert re.findall(r'pub const NAMESPACE: &str = "([^"]+)";', telemetry) == ["orderflow"]
    assert re.findall(r'pub const DIMENSION: &str = "([^"]+)";', telemetry) == ["Function"], "the EMF dimension changed: update the dashboard"
    sources = _rust_sources()
    # The outcomes every SQS batch handler shares are counted by BatchReport::counted.
    batch = sources[REPO_ROOT / "shared" / "src" / "batch.rs"]
    assert emf_metrics
    for namespace, metric, dimension, function in emf_metrics:
        assert dimension == "Function"
        emitting = [p for p, text in sources.items() if f'"{metric}"' in text and f'"{function}"' in text]
        if not emitting and f'"{metric}"' in batch:
            emitting = [p for p, text in sources.items() if f'"{function}"' in text and ".counted(FUNCTION" in text]
        assert emitting, f"no Rust file counts {metric!r} for function {function!r}"


def test_the_dashboard_shows_the_orders_conversion_webhook_and_erp_metrics(emf_metrics):
    shown = {(function, metric) for _, metric, _, function in emf_metrics}
    assert {
        ("xml-order-converter", "OrdersReceived"),
        ("xml-order-converter", "ConversionFailures"),
        ("webhook-bridge", "WebhookVerificationFailures"),
        ("erp-sync-worker", "ErpCreated"),
        ("erp-sync-worker", "ErpParked"),
        ("state-router", "OrdersRegistered"),
        ("state-router", "OrdersIssuanceDte"),
        ("state-router", "OrdersBroadcastDte"),
    } <= shown


def test_the_dashboard_shows_every_alarmed_metric(cfn):
    shown = {tuple(m[:2]) for m in _dashboard_metrics(cfn)}
    for name, alarm in _alarms(cfn).items():
        assert (alarm["Namespace"], alarm["MetricName"]) in shown, f"{name}: {alarm['MetricName']} is not on the dashboard"
