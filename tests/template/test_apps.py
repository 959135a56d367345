"""The apps table (docs/APPS.md) and the functions that read it: only `orderflow apps` writes it,
so every function may Scan it and nothing more; each function reads the secrets of the
connections it runs, under exactly their SSM prefixes; the parameters that name connections
(ErpConnection, PollConnections) and the catalogue configurations name deployed ones."""

import json

import pytest

import connections
from translate import REPO_ROOT, function_statements, iam_statements, is_get_att, is_ref, load_sam_template, props, resources_of_type

# The functions that run connections, and the portal's read-only apps page.
READERS = {
    "WebhookBridgeFunction",
    "ErpSyncWorkerFunction",
    "OrderPollerFunction",
    "ShopSyncFunction",
    "CatalogSyncFunction",
    "BackofficeFunction",
}
REMOVED = {
    "variables": {"WEBHOOK_SOURCES_JSON", "POLL_SOURCES_JSON", "SHOPS_JSON", "ERP_CONNECTOR_JSON", "ERP_CONNECTORS_JSON", "ERP_CONNECTOR_NAME"},
    "parameters": {"WebhookSourcesJson", "PollSourcesJson", "ErpConnectorJson", "ShopsJson"},
}


def _names_apps_table(resource):
    return "AppsTable" in json.dumps(resource)


def _functions(cfn):
    return resources_of_type(cfn, "AWS::Lambda::Function")


def _variables(cfn, function):
    return props(cfn, function).get("Environment", {}).get("Variables", {})


def test_the_apps_table_is_keyed_by_pk_on_demand_recoverable_and_encrypted(cfn):
    table = props(cfn, "AppsTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert "TimeToLiveSpecification" not in table, "definitions and connections never expire"


def test_exactly_the_readers_are_told_the_apps_table(cfn):
    told = {name for name in _functions(cfn) if "APPS_TABLE" in _variables(cfn, name)}
    assert told == READERS
    for name in READERS:
        assert is_ref(_variables(cfn, name)["APPS_TABLE"], "AppsTable"), name


@pytest.mark.parametrize("function", sorted(READERS))
def test_each_reader_may_only_scan_the_apps_table(cfn, function):
    on_table = [s for s in function_statements(cfn, function) if _names_apps_table(s["Resource"])]
    assert len(on_table) == 1, on_table
    (statement,) = on_table
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "dynamodb:Scan", "one action, a string"
    assert is_get_att(statement["Resource"], "AppsTable"), "one resource: the table, not its indexes or streams"
    assert "Condition" not in statement


def test_no_role_may_write_the_apps_table(cfn):
    """Any statement anywhere (function roles, other roles, managed policies) that names the
    table allows dynamodb:Scan alone, and belongs to a reader's role."""
    roles = {props(cfn, name)["Role"]["Fn::GetAtt"][0] for name in READERS}
    naming = [(where, s) for where, s in iam_statements(cfn) if _names_apps_table(s.get("Resource"))]
    assert len(naming) == len(READERS), [where for where, _ in naming]
    for where, statement in naming:
        assert statement["Effect"] == "Allow", where
        assert statement["Action"] == "dynamodb:Scan", where
        assert where.split("/", 1)[0] in roles, where


def test_no_function_or_parameter_carries_inline_connector_configuration(cfn):
    for name in _functions(cfn):
        assert not set(_variables(cfn, name)) & REMOVED["variables"], name
    assert not set(load_sam_template()["Parameters"]) & REMOVED["parameters"]


def _ssm_read(cfn, function):
    """The parameter paths a function may read (`ssm:GetParameter`), e.g. `/orderflow/${Stage}/shops/*`."""
    arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
    found = set()
    for s in function_statements(cfn, function):
        if s["Action"] == "ssm:GetParameter":
            resource = s["Resource"]["Fn::Sub"]
            assert resource.startswith(arn + "/"), resource
            found.add(resource.removeprefix(arn))
    return found


def _prefixes(pairs):
    return {connections.ssm_prefix(ref) for conn, kind in pairs for ref in connections.secret_refs(conn, kind)}


def _catalog():
    return json.loads((REPO_ROOT / "config" / "catalog.json").read_text(encoding="utf-8"))


def test_each_function_reads_exactly_the_ssm_prefixes_of_its_connections_secrets(cfn):
    catalog = _catalog()
    expected = {
        "WebhookBridgeFunction": _prefixes((c, "webhook") for c in connections.with_part("webhook")),
        "OrderPollerFunction": _prefixes((c, "poll") for c in connections.with_part("poll")),
        "ShopSyncFunction": _prefixes((c, "shop") for c in connections.with_part("shop")),
        # Any ERP connection may be the one ErpConnection names.
        "ErpSyncWorkerFunction": _prefixes((c, "erp") for c in connections.with_part("erp")),
        # Its own configuration parameter, and the secrets of the two connections it names.
        "CatalogSyncFunction": {"/orderflow/${Stage}/catalog/*"}
        | _prefixes([(connections.connection(catalog["erp"]), "erp"), (connections.connection(catalog["shop"]), "shop")]),
        "BackofficeFunction": set(),
    }
    # What the deployed connections use today; a change here is a change of the stack's access.
    assert expected["OrderPollerFunction"] == {"/orderflow/${Stage}/poll/*", "/orderflow/${Stage}/shops/*"}
    assert expected["WebhookBridgeFunction"] == {"/orderflow/${Stage}/webhooks/*"}
    for function, prefixes in expected.items():
        assert _ssm_read(cfn, function) == prefixes, function


def test_every_deployed_secret_is_an_ssm_parameter_of_the_dev_stage():
    for conn in connections.connections():
        for field, ref in conn["secrets"].items():
            connections.ssm_prefix(ref)  # asserts the form
            assert field in {f["name"] for f in connections.definition(conn)["auth"]["fields"]}, (conn["id"], field)


def test_the_worker_pushes_to_the_erp_connection_a_parameter_names(cfn):
    env = _variables(cfn, "ErpSyncWorkerFunction")
    assert is_ref(env["ERP_CONNECTION"], "ErpConnection")
    parameter = load_sam_template()["Parameters"]["ErpConnection"]
    assert parameter["Type"] == "String"
    assert parameter["AllowedPattern"] == "^[a-z0-9][a-z0-9-]*$"
    assert parameter["Default"] == "business-central"
    assert connections.part(connections.connection(parameter["Default"]), "erp"), "the default has an ERP action"


@pytest.mark.parametrize(
    "catalog,file", [("catalog.json", "connections.json"), ("catalog.local.json", "connections.local.json")]
)
def test_the_catalogue_configuration_names_connections_with_an_erp_and_a_shop_action(catalog, file):
    config = json.loads((REPO_ROOT / "config" / catalog).read_text(encoding="utf-8"))
    assert connections.part(connections.connection(config["erp"], file), "erp"), config["erp"]
    assert connections.part(connections.connection(config["shop"], file), "shop"), config["shop"]


def test_the_stack_outputs_the_apps_table_name():
    assert load_sam_template()["Outputs"]["AppsTableName"]["Value"] == {"Ref": "AppsTable"}
