"""POST /orders/queue (API Gateway straight to SQS) and the legacy HTTP proxies, as the template
defines them: the request validator's model, the mapping templates rendered by Velocity
(apigateway.py), the role, the keys and the timeouts. tests/lambda/test_orders_queue.py sends
what the template renders to SQS in moto and has the queue reader register it.
"""

import base64
import importlib.machinery
import importlib.util
import json
import re
import urllib.parse

import jsonschema
import pytest

from apigateway import render, url_encode
from test_template import STAGES, _overrides
from translate import REPO_ROOT, is_get_att, load_sam_template, props, resources_of_type

MODEL_FILE = REPO_ROOT / "schema" / "canonical-order.draft4.json"
SAMPLE_ORDER = json.loads(json.loads((REPO_ROOT / "events" / "state-router-post-order.json").read_text())["body"])
KEY = "order-entry-7f3a"
REQUEST_ID = "5b1e2c3d-0000-4000-8000-00000000a11c"
# What SQS allows in a group or deduplication id: letters, digits and punctuation, 1-128 of them.
SQS_ID = re.compile(r"^[!-~]{1,128}$")


@pytest.fixture(scope="module")
def method(cfn):
    return props(cfn, "OrdersApi")["Body"]["paths"]["/orders/queue"]["post"]


@pytest.fixture(scope="module")
def integration(method):
    return method["x-amazon-apigateway-integration"]


def send_message(integration, body, key=KEY):
    """The SendMessage call API Gateway makes for one request: its form fields, decoded as SQS does."""
    rendered = render(
        integration["requestTemplates"]["application/json"],
        body,
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        request_id=REQUEST_ID,
    )
    assert "\n" not in rendered, f"the form body is one line: {rendered!r}"
    fields = urllib.parse.parse_qs(rendered, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict")
    assert all(len(values) == 1 for values in fields.values()), fields
    return {name: values[0] for name, values in fields.items()}


def command_around(body):
    """The registration command the queue reader takes (shared/src/command.rs), around `body` as sent."""
    return '{"command":"register","source":"api-gateway:POST /orders/queue ' + REQUEST_ID + '","order":' + body + "}"


# --- the model -----------------------------------------------------------------------------------


def _api_model_module():
    loader = importlib.machinery.SourceFileLoader("api_model", str(REPO_ROOT / "scripts" / "api-model"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("api_model", loader))
    loader.exec_module(module)
    return module


def test_the_model_file_and_the_template_are_what_the_generator_makes_from_the_schema():
    api_model = _api_model_module()
    model = api_model.generate()
    assert MODEL_FILE.read_text(encoding="utf-8") == model, "run scripts/api-model"
    template = (REPO_ROOT / "template.yaml").read_text(encoding="utf-8")
    assert template == api_model.in_template(model), "run scripts/api-model"


def test_the_template_validates_with_the_model_file(cfn, method):
    body = props(cfn, "OrdersApi")["Body"]
    assert body["definitions"]["CanonicalOrder"] == json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    order = [p for p in method["parameters"] if p["in"] == "body"]
    assert order == [{"name": "order", "in": "body", "required": True, "schema": {"$ref": "#/definitions/CanonicalOrder"}}]
    validator = body["x-amazon-apigateway-request-validators"][method["x-amazon-apigateway-request-validator"]]
    assert validator == {"validateRequestBody": True, "validateRequestParameters": True}


def test_the_model_is_draft_4_and_accepts_the_sample_order():
    model = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    assert model["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(model)
    jsonschema.Draft4Validator(model).validate(SAMPLE_ORDER)
    assert "$ref" not in MODEL_FILE.read_text(encoding="utf-8"), "API Gateway models cannot refer to #/$defs"


@pytest.mark.parametrize(
    "change, path",
    [
        (lambda o: o.update(order_number=417), ["order_number"]),
        (lambda o: o["totals"].update(payable=12.5), ["totals", "payable"]),
        (lambda o: o["lines"][0].update(quantity="0.000"), ["lines", 0, "quantity"]),
        (lambda o: o.update(colour="blue"), []),
        (lambda o: o.pop("totals"), []),
    ],
)
def test_the_model_refuses_a_malformed_order(change, path):
    model = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    order = json.loads(json.dumps(SAMPLE_ORDER))
    change(order)
    errors = list(jsonschema.Draft4Validator(model).iter_errors(order))
    assert errors, "refused"
    assert any(list(e.absolute_path) == path for e in errors), [list(e.absolute_path) for e in errors]


def test_the_idempotency_key_is_a_required_header(method):
    headers = [p for p in method["parameters"] if p["in"] == "header"]
    assert headers == [{"name": "Idempotency-Key", "in": "header", "required": True, "type": "string"}]


# --- the request mapping -------------------------------------------------------------------------

HOSTILE_TEXT = [
    "a & b",
    "1+1=2",
    "100% = all",
    "50%25 already encoded",
    'she said "hi" and \\"escaped\\"',
    "line one\nline two\r\nline three",
    "Ñuñoa, São Paulo, Kraków, 東京, 🍞",
    "tab\tand\u2028separator",
    "+ % & = ? # / ; , ~ * ' ( ) [ ]",
]


@pytest.mark.parametrize("note", HOSTILE_TEXT)
def test_the_order_reaches_the_queue_byte_for_byte(integration, note):
    order = dict(SAMPLE_ORDER, note=note)
    for body in (json.dumps(order, ensure_ascii=False), json.dumps(order, indent=2), json.dumps(order)):
        fields = send_message(integration, body)
        assert fields["Action"] == "SendMessage"
        assert fields["MessageBody"] == command_around(body)
        command = json.loads(fields["MessageBody"])
        assert set(command) == {"command", "source", "order"} and command["order"]["note"] == note


def test_the_form_fields_are_exactly_those_of_send_message(integration):
    fields = send_message(integration, json.dumps(SAMPLE_ORDER))
    assert set(fields) == {"Action", "MessageGroupId", "MessageDeduplicationId", "MessageBody"}


def test_the_group_is_the_buyer_by_company_id(integration):
    fields = send_message(integration, json.dumps(SAMPLE_ORDER))
    assert fields["MessageGroupId"] == base64.b64encode(b"76.123.456-7").decode()
    other_order_same_buyer = dict(SAMPLE_ORDER, order_number="OC-2", order_key="OC-2-0123456789abcdef")
    assert send_message(integration, json.dumps(other_order_same_buyer))["MessageGroupId"] == fields["MessageGroupId"]


def test_the_group_falls_back_to_the_buyer_name_and_stays_an_sqs_id(integration):
    for name in ("Panadería Ñuñoa SpA", "x" * 500, "a b"):
        buyer = {k: v for k, v in SAMPLE_ORDER["buyer"].items() if k != "company_id"}
        buyer["name"] = name
        group = send_message(integration, json.dumps(dict(SAMPLE_ORDER, buyer=buyer)))["MessageGroupId"]
        assert SQS_ID.match(group), group
        assert group == base64.b64encode(name.encode()).decode()[:128]


@pytest.mark.parametrize("key", ["order-entry-7f3a", "a+b&c=d%e", "ünïcödé"])
def test_the_deduplication_id_is_the_idempotency_key(integration, key):
    assert send_message(integration, json.dumps(SAMPLE_ORDER), key=key)["MessageDeduplicationId"] == key


def test_url_encoding_is_javas():
    assert url_encode("a b+c&d=e%f~g*h_i.j-kñ") == "a+b%2Bc%26d%3De%25f%7Eg*h_i.j-k%C3%B1"


# --- the integration and its answers -------------------------------------------------------------


def test_the_integration_sends_to_the_orders_queue_through_its_own_role(cfn, integration):
    assert integration["type"] == "aws" and integration["httpMethod"] == "POST"
    assert integration["uri"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:sqs:path/${AWS::AccountId}/${OrdersQueue.QueueName}"
    }
    assert is_get_att(integration["credentials"], "OrdersQueueProxyRole")
    assert integration["passthroughBehavior"] == "never", "anything but JSON is refused (415)"
    assert list(integration["requestTemplates"]) == ["application/json"]
    assert integration["requestParameters"]["integration.request.header.Content-Type"] == "'application/x-www-form-urlencoded'"


def test_the_proxy_role_may_only_send_to_the_orders_queue(cfn):
    role = props(cfn, "OrdersQueueProxyRole")
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "apigateway.amazonaws.com"}]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert len(statements) == 1
    assert statements[0]["Effect"] == "Allow" and statements[0]["Action"] == "sqs:SendMessage"
    assert is_get_att(statements[0]["Resource"], "OrdersQueue")
    assert "ManagedPolicyArns" not in role


def test_a_queued_order_is_answered_202_with_the_message_id(integration):
    responses = integration["responses"]
    assert responses["2\\d{2}"]["statusCode"] == "202"
    sqs = {"SendMessageResponse": {"SendMessageResult": {"MessageId": "m-1", "SequenceNumber": "18880000000000000001"}}}
    answer = render(responses["2\\d{2}"]["responseTemplates"]["application/json"], json.dumps(sqs))
    assert json.loads(answer) == {"status": "queued", "message_id": "m-1"}


def test_any_sqs_error_is_a_502_in_the_error_shape(integration):
    default = integration["responses"]["default"]
    assert default["statusCode"] == "502"
    sqs_error = {"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:sts::123456789012:assumed-role/x is not authorized"}}
    answer = json.loads(render(default["responseTemplates"]["application/json"], json.dumps(sqs_error)))
    assert answer["error"]["code"] == "queue_unavailable"
    assert "123456789012" not in json.dumps(answer), "SQS's message (account, role) is not passed on"


@pytest.mark.parametrize(
    "response, status, code",
    [
        ("BAD_REQUEST_BODY", 400, "invalid_body"),
        ("BAD_REQUEST_PARAMETERS", 400, "missing_parameter"),
        ("UNSUPPORTED_MEDIA_TYPE", 415, "unsupported_media_type"),
        ("INTEGRATION_TIMEOUT", 504, "upstream_timeout"),
        ("INTEGRATION_FAILURE", 502, "upstream_unavailable"),
    ],
)
def test_api_gateways_own_refusals_use_the_error_shape(cfn, response, status, code):
    gateway = props(cfn, "OrdersApi")["Body"]["x-amazon-apigateway-gateway-responses"][response]
    assert int(gateway["statusCode"]) == status
    message = 'Invalid request body: "quoted" & more'
    answer = json.loads(render(gateway["responseTemplates"]["application/json"], "", error_message=message))
    assert answer == {"error": {"code": code, "message": message}}


# --- keys, usage plans, legacy proxies -----------------------------------------------------------


def _legacy_paths(cfn):
    paths = {p: ops for p, ops in props(cfn, "OrdersApi")["Body"]["paths"].items() if p.startswith("/legacy/")}
    assert paths, "the template serves legacy systems"
    return paths


def test_every_new_method_needs_a_key(cfn, method):
    assert method["security"] == [{"api_key": []}]
    for path, operations in _legacy_paths(cfn).items():
        assert list(operations) == ["x-amazon-apigateway-any-method"], path
        assert operations["x-amazon-apigateway-any-method"]["security"] == [{"api_key": []}], path


def test_the_usage_plans_cover_the_whole_stage(cfn):
    plans = resources_of_type(cfn, "AWS::ApiGateway::UsagePlan")
    assert plans
    for name, plan in plans.items():
        stages = plan["Properties"]["ApiStages"]
        assert stages == [{"ApiId": {"Ref": "OrdersApi"}, "Stage": {"Ref": "Stage"}}], name
        assert all("Throttle" not in stage for stage in stages), f"{name}: no per-method override leaves a route out"


def _resolve_uri(uri, backend_urls):
    """Evaluates a legacy integration's Join/Select/Split/Sub against a LegacyBackendUrls value."""
    if isinstance(uri, str):
        return uri
    (function, args), = uri.items()
    if function == "Fn::Sub":
        return args.replace("${LegacyBackendUrls}", backend_urls)
    if function == "Fn::Join":
        return args[0].join(_resolve_uri(a, backend_urls) for a in args[1])
    if function == "Fn::Split":
        return _resolve_uri(args[1], backend_urls).split(args[0])
    if function == "Fn::Select":
        return _resolve_uri(args[1], backend_urls)[int(args[0])]
    raise AssertionError(f"unexpected {function} in a legacy URI")


def _backend_urls_by_stage():
    default = load_sam_template()["Parameters"]["LegacyBackendUrls"]["Default"]
    return {"default": default, **{stage: _overrides(stage)["LegacyBackendUrls"] for stage in STAGES}}


def test_every_legacy_system_has_its_own_back_end_in_every_stage(cfn):
    for which, backend_urls in _backend_urls_by_stage().items():
        configured = dict(entry.split("=", 1) for entry in backend_urls.split(","))
        served = set()
        for path, operations in _legacy_paths(cfn).items():
            system = path.split("/")[2]
            served.add(system)
            integration = operations["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
            assert integration["type"] == "http_proxy" and integration["httpMethod"] == "ANY"
            assert _resolve_uri(integration["uri"], backend_urls) == configured[system] + "/{proxy}", (which, path)
            assert integration["requestParameters"] == {"integration.request.path.proxy": "method.request.path.proxy"}
        assert served == set(configured), f"{which}: systems served {sorted(served)} vs configured {sorted(configured)}"
        pattern = load_sam_template()["Parameters"]["LegacyBackendUrls"]["AllowedPattern"]
        assert re.fullmatch(pattern, backend_urls), which


def test_every_legacy_proxy_has_its_timeout(cfn):
    parameter = load_sam_template()["Parameters"]["LegacyTimeoutMs"]
    assert parameter["MaxValue"] <= 29000
    for path, operations in _legacy_paths(cfn).items():
        integration = operations["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        assert integration["timeoutInMillis"] == {"Ref": "LegacyTimeoutMs"}, path
    for stage in STAGES:
        assert 50 <= int(_overrides(stage)["LegacyTimeoutMs"]) <= parameter["MaxValue"]
