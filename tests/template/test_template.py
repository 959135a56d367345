"""What template.yaml must keep true, checked on the CloudFormation that SAM generates from it.

Runs offline: see translate.py.
"""

import re
import tomllib

import pytest
from samcli.cli.types import CfnParameterOverridesType

from translate import (
    ALLOWED_MANAGED_POLICIES,
    REPO_ROOT,
    as_list,
    broad_statements,
    iam_statements,
    is_get_att,
    is_ref,
    load_sam_template,
    props,
    resources_of_type,
    role_of_function,
    statement_problems,
    translate,
)

CONVERTER = "XmlOrderConverterFunction"
# The queue reader's Lambda timeout; the orders queue's visibility timeout must be 6x it.
QUEUE_READER_TIMEOUT_SECONDS = 30
STAGES = ("dev", "qa", "prod")
# The source system's measured peak: about 500 orders a minute.
PEAK_ORDERS_PER_SECOND = 500 / 60


def _bucket_name_sub(cfn):
    name = props(cfn, "OrdersBucket")["BucketName"]
    assert isinstance(name, dict) and "Fn::Sub" in name, f"bucket name should be a !Sub, got {name!r}"
    return name["Fn::Sub"]


# --- queues --------------------------------------------------------------------------------------


def test_orders_queue_is_fifo_and_redrives_to_pending_fifo_queue_after_10_receives(cfn):
    queue = props(cfn, "OrdersQueue")
    assert queue["FifoQueue"] is True
    assert queue["ContentBasedDeduplication"] is False
    assert queue["QueueName"]["Fn::Sub"].endswith(".fifo")
    redrive = queue["RedrivePolicy"]
    assert is_get_att(redrive["deadLetterTargetArn"], "OrdersPendingQueue")
    assert int(redrive["maxReceiveCount"]) == 10

    pending = props(cfn, "OrdersPendingQueue")
    assert pending["FifoQueue"] is True
    assert pending["QueueName"]["Fn::Sub"].endswith(".fifo")
    assert int(pending["MessageRetentionPeriod"]) == 14 * 24 * 3600


def test_orders_queue_visibility_timeout_is_six_times_the_queue_reader_timeout(cfn):
    visibility = int(props(cfn, "OrdersQueue")["VisibilityTimeout"])
    assert visibility == 6 * QUEUE_READER_TIMEOUT_SECONDS == 180

    # Once a function reads the queue, its real timeout must agree too.
    for name, mapping in resources_of_type(cfn, "AWS::Lambda::EventSourceMapping").items():
        if is_get_att(mapping["Properties"].get("EventSourceArn"), "OrdersQueue"):
            function_id = mapping["Properties"]["FunctionName"]["Ref"]
            timeout = int(props(cfn, function_id).get("Timeout", 3))
            assert visibility >= 6 * timeout, f"{function_id} timeout {timeout}s: visibility {visibility}s < 6x"


def test_every_queue_is_encrypted(cfn):
    queues = resources_of_type(cfn, "AWS::SQS::Queue")
    assert {"OrdersQueue", "OrdersPendingQueue", "ConverterDeadLetterQueue"} <= set(queues)
    for name, queue in queues.items():
        p = queue["Properties"]
        assert p.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in p, f"{name} is not encrypted"


# --- bucket --------------------------------------------------------------------------------------


def test_orders_bucket_blocks_all_public_access(cfn):
    block = props(cfn, "OrdersBucket")["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_orders_bucket_is_encrypted_and_versioned(cfn):
    bucket = props(cfn, "OrdersBucket")
    rules = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rules, "no encryption rule"
    for rule in rules:
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms", "aws:kms:dsse")
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"


def test_orders_bucket_policy_denies_requests_without_tls(cfn):
    policies = [
        p["Properties"]
        for p in resources_of_type(cfn, "AWS::S3::BucketPolicy").values()
        if is_ref(p["Properties"]["Bucket"], "OrdersBucket")
    ]
    assert len(policies) == 1, "the orders bucket should have exactly one bucket policy"
    denies = [
        s
        for s in as_list(policies[0]["PolicyDocument"]["Statement"])
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
    ]
    assert denies, "no Deny statement on aws:SecureTransport = false"
    deny = denies[0]
    assert deny["Principal"] in ("*", {"AWS": "*"})
    assert "s3:*" in as_list(deny["Action"])
    resources = as_list(deny["Resource"])
    assert any(is_get_att(r, "OrdersBucket") for r in resources), "deny must cover the bucket itself"
    assert {"Fn::Sub": "${OrdersBucket.Arn}/*"} in resources, "deny must cover every object"


# --- converter function --------------------------------------------------------------------------


def test_converter_is_arm64_on_provided_al2023_with_json_logging(cfn):
    fn = props(cfn, CONVERTER)
    assert fn["Runtime"] == "provided.al2023"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Handler"] == "bootstrap"
    assert fn["LoggingConfig"]["LogFormat"] == "JSON"
    assert is_ref(fn["LoggingConfig"]["ApplicationLogLevel"], "LogLevel")
    assert fn["TracingConfig"]["Mode"] == "Active"


def test_converter_is_built_by_cargo_lambda_from_a_workspace_binary():
    sam = load_sam_template()
    metadata = sam["Resources"][CONVERTER]["Metadata"]
    assert metadata["BuildMethod"] == "rust-cargolambda"
    binary = metadata["BuildProperties"]["Binary"]
    assert sam["Resources"][CONVERTER]["Properties"]["CodeUri"] == "./"
    crate = tomllib.loads((REPO_ROOT / "functions" / binary / "Cargo.toml").read_text())
    bins = {b["name"] for b in crate.get("bin", [])} or {crate["package"]["name"]}
    assert binary in bins, f"functions/{binary}/Cargo.toml builds {bins}, not {binary!r}"


def test_converter_environment_names_the_orders_bucket_and_queue(cfn):
    env = props(cfn, CONVERTER)["Environment"]["Variables"]
    assert env["ORDERS_BUCKET"] == {"Fn::Sub": _bucket_name_sub(cfn)}
    assert is_ref(env["ORDERS_QUEUE_URL"], "OrdersQueue")
    assert env["INCOMING_PREFIX"] == "incoming/"
    assert env["REJECTED_PREFIX"] == "rejected/"
    assert is_ref(env["MAX_DOCUMENT_BYTES"], "MaxDocumentBytes")
    assert str(load_sam_template()["Parameters"]["MaxDocumentBytes"]["Default"]) == "8388608"


def test_converter_is_triggered_by_xml_files_created_under_incoming(cfn):
    notifications = props(cfn, "OrdersBucket")["NotificationConfiguration"]["LambdaConfigurations"]
    (config,) = [c for c in notifications if is_get_att(c["Function"], CONVERTER)]
    assert config["Event"] == "s3:ObjectCreated:*"
    rules = {r["Name"]: r["Value"] for r in config["Filter"]["S3Key"]["Rules"]}
    assert rules == {"prefix": "incoming/", "suffix": ".xml"}


def test_converter_has_an_async_on_failure_destination(cfn):
    configs = [
        c["Properties"]
        for c in resources_of_type(cfn, "AWS::Lambda::EventInvokeConfig").values()
        if is_ref(c["Properties"]["FunctionName"], CONVERTER)
    ]
    assert len(configs) == 1, "the converter needs one EventInvokeConfig"
    on_failure = configs[0]["DestinationConfig"]["OnFailure"]["Destination"]
    assert is_get_att(on_failure, "ConverterDeadLetterQueue")
    assert configs[0]["MaximumRetryAttempts"] == 2

    # Lambda can only deliver there if the function's role may send to the queue.
    role = role_of_function(cfn, CONVERTER)
    assert any(
        where.startswith(f"{role}/")
        and "sqs:SendMessage" in as_list(s["Action"])
        and any(is_get_att(r, "ConverterDeadLetterQueue") for r in as_list(s["Resource"]))
        for where, s in iam_statements(cfn)
    ), "the converter's role cannot send to its dead-letter queue"


def test_converter_may_only_read_incoming_write_rejected_and_claims_and_queue_orders(cfn):
    role = role_of_function(cfn, CONVERTER)
    grants = set()
    for where, statement in iam_statements(cfn):
        if not where.startswith(f"{role}/") or statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                grants.add((action, json_key(resource)))
    bucket_arn = "arn:${AWS::Partition}:s3:::" + _bucket_name_sub(cfn)
    assert grants == {
        ("s3:GetObject", f"sub:{bucket_arn}/incoming/*"),
        ("s3:PutObject", f"sub:{bucket_arn}/rejected/*"),
        ("s3:PutObject", f"sub:{bucket_arn}/claims/*"),
        ("sqs:SendMessage", "arn:OrdersQueue"),
        ("sqs:SendMessage", "arn:ConverterDeadLetterQueue"),
    }


def json_key(resource):
    """A short comparable name for a policy Resource value."""
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        return "sub:" + as_list(resource["Fn::Sub"])[0]
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target = resource["Fn::GetAtt"]
        target = target.split(".") if isinstance(target, str) else target
        return f"{target[1].lower()}:{target[0]}"
    return repr(resource)


# --- IAM, for every role the template generates ---------------------------------------------------


def test_every_role_statement_names_specific_actions_and_resources(cfn):
    roles = resources_of_type(cfn, "AWS::IAM::Role")
    assert roles, "expected at least one generated role"
    statements = list(iam_statements(cfn))
    assert statements, "expected inline policy statements"
    assert broad_statements(cfn) == {}


def test_every_role_carries_only_reviewed_managed_policies(cfn):
    for name, role in resources_of_type(cfn, "AWS::IAM::Role").items():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert isinstance(arn, str) and arn in ALLOWED_MANAGED_POLICIES, f"{name}: unreviewed managed policy {arn!r}"


@pytest.mark.parametrize(
    "statement, problem",
    [
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}, "wildcard action"),
        ({"Effect": "Allow", "Action": ["sqs:SendMessage*"], "Resource": "arn:aws:sqs:r:1:q"}, "wildcard action"),
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:sqs:r:1:q"}, "wildcard action"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "wildcard resource"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/x", "*"]}, "wildcard resource"),
        ({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:*:*"}, "wildcard resource"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "*"}}, "wildcard resource"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}, "NotAction"),
        ({"Effect": "Allow", "Action": "s3:GetObject"}, "no Resource"),
    ],
)
def test_policy_check_catches_broad_statements(statement, problem):
    assert any(problem in p for p in statement_problems(statement)), statement_problems(statement)


def test_policy_check_accepts_specific_statements():
    assert statement_problems({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/in/*"}) == []
    assert statement_problems({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Q", "Arn"]}}) == []
    assert statement_problems({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}) == []


# --- stages and samconfig.toml --------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_template_translates_for_every_stage(stage):
    cfn = translate({"Stage": stage})
    assert "Transform" not in cfn
    assert resources_of_type(cfn, "AWS::Lambda::Function")


def test_stage_parameter_allows_exactly_dev_qa_prod():
    assert load_sam_template()["Parameters"]["Stage"]["AllowedValues"] == list(STAGES)


def _samconfig():
    return tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())


def _overrides(stage):
    """The stage's parameter_overrides, parsed by SAM CLI's own option type."""
    raw = _samconfig()[stage]["global"]["parameters"]["parameter_overrides"]
    return CfnParameterOverridesType().convert(raw, None, None)


# Alarm thresholds, log retention, API limits and back-ends differ per stage: each stage sets them.
STAGE_SPECIFIC_PARAMETERS = {
    "LogLevel", "LogRetentionDays", "ApiClients", "Api5xxErrorsThreshold", "Api4xxErrorRateThreshold",
    "ApiLatencyP99ThresholdMs", "ApiIntegrationLatencyP99ThresholdMs", "LambdaErrorsThreshold",
    "LambdaThrottlesThreshold", "ParkedMessageAgeThresholdSeconds", "DteTokenSecretArn", "AlarmEmail",
    "LegacyBackendUrls", "LegacyTimeoutMs",
}


@pytest.mark.parametrize("stage", STAGES)
def test_samconfig_has_an_environment_per_stage(stage):
    env = _samconfig()[stage]
    assert env["global"]["parameters"]["stack_name"] == f"orderflow-{stage}"
    # SAM CLI expands the Fn::ForEach loops only when asked; without it `sam build` fails.
    assert env["global"]["parameters"]["language_extensions"] is True
    overrides = _overrides(stage)
    assert overrides["Stage"] == stage
    parameters = load_sam_template()["Parameters"]
    assert set(overrides) <= set(parameters), "override of an unknown parameter"
    assert STAGE_SPECIFIC_PARAMETERS <= set(overrides), "a stage-specific value is left to the template default"
    for name, value in overrides.items():
        allowed = parameters[name].get("AllowedValues")
        assert allowed is None or value in map(str, allowed), f"{stage}: {name}={value} is not allowed"
    # cached is false on purpose (samconfig.toml says why); it must be set, not left to SAM.
    assert env["build"]["parameters"] == {"cached": False, "parallel": True}
    assert env["validate"]["parameters"]["lint"] is True
    deploy = env["deploy"]["parameters"]
    assert deploy["confirm_changeset"] is True
    # AUTO_EXPAND for the AWS::LanguageExtensions transform (the Fn::ForEach loops).
    assert deploy["capabilities"].split() == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
    assert deploy["resolve_s3"] is True


def test_prod_keeps_logs_a_year_and_alarms_on_the_first_failure():
    prod = _overrides("prod")
    assert prod["LogRetentionDays"] == "365"
    assert prod["Api5xxErrorsThreshold"] == prod["LambdaErrorsThreshold"] == prod["LambdaThrottlesThreshold"] == "0"
    assert int(_overrides("dev")["LogRetentionDays"]) < 365


def test_samconfig_default_environment_is_dev():
    config = _samconfig()
    assert config["version"] == 0.1
    assert config["default"] == config["dev"]


# --- Orders API and table ------------------------------------------------------------------------


def test_every_api_method_except_webhooks_requires_an_api_key(cfn):
    methods = resources_of_type(cfn, "AWS::ApiGateway::Method")
    for name, method in methods.items():
        method_props = method["Properties"]
        if method_props.get("HttpMethod") == "OPTIONS":
            continue
        assert method_props.get("ApiKeyRequired") is True, f"{name} answers without a key"
    apis = resources_of_type(cfn, "AWS::ApiGateway::RestApi")
    assert apis, "the template defines the Orders API"
    for api_name, api in apis.items():
        for path, operations in api["Properties"]["Body"]["paths"].items():
            for verb, operation in operations.items():
                keyed = any("api_key" in requirement for requirement in operation.get("security", []))
                # The portal signs people in instead (test_console.py checks its authorizer).
                console = path == "/console" or path.startswith("/console/")
                assert keyed or console or path.startswith("/webhooks/"), f"{api_name} {verb.upper()} {path} needs no key"


def _resolve(value, clients):
    """Evaluates the Fn::Select / Fn::Split / Ref ApiClients expressions of the usage plans."""
    if isinstance(value, dict) and list(value) == ["Ref"] and value["Ref"] == "ApiClients":
        return clients
    if isinstance(value, dict) and list(value) == ["Fn::Split"]:
        separator, source = value["Fn::Split"]
        return _resolve(source, clients).split(separator)
    if isinstance(value, dict) and list(value) == ["Fn::Select"]:
        index, source = value["Fn::Select"]
        return _resolve(source, clients)[int(index)]
    if isinstance(value, dict) and list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], list):
        text, variables = value["Fn::Sub"]
        for name, expression in variables.items():
            text = text.replace("${%s}" % name, _resolve(expression, clients))
        return text
    return value


def _client_lists():
    default = load_sam_template()["Parameters"]["ApiClients"]["Default"]
    return {"default": default, **{stage: _overrides(stage)["ApiClients"] for stage in STAGES}}


def _clients(raw):
    """{name: (rate, burst, quota, period)} of an ApiClients value, in order."""
    clients = {}
    for entry in raw.split(","):
        name, rate, burst, quota, period = entry.split(":")
        assert name not in clients, f"client {name} listed twice"
        clients[name] = (float(rate), int(burst), int(quota), period)
    return clients


@pytest.mark.parametrize("which", ["default", *STAGES])
def test_every_api_client_gets_its_own_key_and_a_usage_plan_with_throttle_and_quota(cfn, which):
    raw = _client_lists()[which]
    clients = _clients(raw)
    plans = resources_of_type(cfn, "AWS::ApiGateway::UsagePlan")
    assert len(plans) == len(clients), f"{which}: {len(clients)} clients but {len(plans)} usage plans"
    plan_keys = [k["Properties"] for k in resources_of_type(cfn, "AWS::ApiGateway::UsagePlanKey").values()]
    seen = set()
    for plan_id, plan in plans.items():
        p = plan["Properties"]
        values = raw.split(",")
        name = _resolve(p["UsagePlanName"], values).removeprefix("orderflow-${Stage}-")
        rate, burst, quota, period = clients[name]
        assert float(_resolve(p["Throttle"]["RateLimit"], values)) == rate > 0
        assert int(_resolve(p["Throttle"]["BurstLimit"], values)) == burst >= rate
        assert int(_resolve(p["Quota"]["Limit"], values)) == quota > 0
        assert _resolve(p["Quota"]["Period"], values) == period and period in ("DAY", "WEEK", "MONTH")
        assert [(is_ref(s["ApiId"], "OrdersApi"), is_ref(s["Stage"], "Stage")) for s in p["ApiStages"]] == [(True, True)]
        (key,) = [k["KeyId"]["Ref"] for k in plan_keys if is_ref(k["UsagePlanId"], plan_id)]
        key_props = props(cfn, key)
        assert _resolve(key_props["Name"], values) == f"orderflow-${{Stage}}-{name}", f"{key} is not {name}'s key"
        assert [is_ref(s["RestApiId"], "OrdersApi") for s in key_props["StageKeys"]] == [True]
        seen.add(name)
    assert seen == set(clients)
    # The queue reader's key is the one the stack generates into Secrets Manager.
    assert list(clients)[0] == "queue-reader"
    assert _resolve(props(cfn, "QueueReaderUsagePlan")["UsagePlanName"], raw.split(",")).endswith("-queue-reader")


@pytest.mark.parametrize("which", ["default", "qa", "prod"])
def test_api_limits_fit_the_peak_with_headroom_for_the_queue_reader(which):
    clients = _clients(_client_lists()[which])
    # Orders posted directly arrive at most at the peak rate; each order is then 3 to 5 commands
    # from the queue reader (register, DTE issuance, DTE broadcast, fulfilment).
    assert clients["order-entry"][0] >= PEAK_ORDERS_PER_SECOND
    assert clients["queue-reader"][0] >= 3 * PEAK_ORDERS_PER_SECOND
    assert clients["queue-reader"][0] == max(rate for rate, *_ in clients.values())


def test_orders_table_has_the_state_index_stream_pitr_and_encryption(cfn):
    table = props(cfn, "OrdersTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by-state"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["state", "state_sort"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_every_table_is_encrypted_recoverable_and_protected_from_deletion_in_prod(cfn):
    tables = resources_of_type(cfn, "AWS::DynamoDB::Table")
    assert {"OrdersTable", "WebhookDedupTable"} <= set(tables)
    for name, table in tables.items():
        p = table["Properties"]
        assert p["SSESpecification"]["SSEEnabled"] is True, name
        assert p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert p["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}, name
    assert load_sam_template()["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_queue_reader_reads_the_orders_queue_in_batches_of_10_with_partial_failures(cfn):
    (mapping,) = [
        m["Properties"]
        for m in resources_of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
        if is_get_att(m["Properties"]["EventSourceArn"], "OrdersQueue")
    ]
    assert is_ref(mapping["FunctionName"], "QueueReaderFunction")
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props(cfn, "QueueReaderFunction")["Timeout"] * 6 == int(props(cfn, "OrdersQueue")["VisibilityTimeout"])


def test_no_secret_value_is_written_in_the_template():
    template = load_sam_template()
    for name, parameter in template["Parameters"].items():
        default = str(parameter.get("Default", ""))
        if "Secret" in name:
            assert default.startswith("arn:"), f"{name} must be a reference, not a value"
        for key, value in re.findall(r'"([a-z_]*(?:secret|password|api_key)[a-z_]*)":"([^"]*)"', default):
            assert key.endswith("_ref") and value.split(":")[0] in ("ssm", "secretsmanager"), f"{name}: {key}"
    key = template["Resources"]["QueueReaderApiKey"]["Properties"]["Value"]
    assert "{{resolve:secretsmanager:" in str(key), "the queue reader's key comes from Secrets Manager"


def test_counter_writes_and_reads_reach_only_the_counter_items(cfn):
    """UpdateItem and BatchGetItem on the orders table serve only the per-state counters
    (`counts#<n>`) and the statistics' day items (`days#<day>`); orders themselves are written
    whole with conditional puts."""
    seen = []
    for role_id, role in resources_of_type(cfn, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                actions = set(as_list(statement["Action"]))
                if not actions & {"dynamodb:UpdateItem", "dynamodb:BatchGetItem"}:
                    continue
                if not any(is_get_att(r, "OrdersTable") for r in as_list(statement["Resource"])):
                    continue
                seen.append(role_id)
                leading = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
                keys = leading.get("dynamodb:LeadingKeys", [])
                assert "counts#*" in keys and set(keys) <= {"counts#*", "days#*"}, (role_id, statement)
    assert sorted(set(seen)) == [
        "BackofficeFunctionRole",
        "BroadcastRetryFunctionRole",
        "ErrorHandlerFunctionRole",
        "StateRouterFunctionRole",
    ], seen
