"""openapi/orders-api.yaml documents exactly the routes template.yaml serves, with the same keys.

Checked both ways on the generated API definition: a route in the template and not in the
document, or documented and not served, fails; so does a different answer to "needs a key?".
"""

import pytest
from samtranslator.yaml_helper import yaml_parse

from translate import REPO_ROOT, props

OPENAPI_PATH = REPO_ROOT / "openapi" / "orders-api.yaml"
VERBS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(scope="module")
def document():
    return yaml_parse(OPENAPI_PATH.read_text(encoding="utf-8"))


# An ANY method (the legacy HTTP proxies) passes every verb on; the document lists these.
ANY_VERBS = ("get", "post", "put", "patch", "delete")


def _served(cfn):
    """{(path, verb): needs a key} of the API that SAM generates from the template. The portal's
    HTML pages under /console are not part of the API that programs call (test_console.py)."""
    body = props(cfn, "OrdersApi")["Body"]
    served = {}
    for path, operations in body["paths"].items():
        if path == "/console" or path.startswith("/console/"):
            continue
        for verb, operation in operations.items():
            keyed = any("api_key" in requirement for requirement in operation.get("security", []))
            if verb == "x-amazon-apigateway-any-method":
                served.update({(path, any_verb): keyed for any_verb in ANY_VERBS})
            elif verb in VERBS:
                served[(path, verb)] = keyed
    return served


def _documented(document):
    """{(path, verb): needs a key} of the OpenAPI document (an operation's security overrides the global one)."""
    scheme_names = {
        name for name, scheme in document["components"]["securitySchemes"].items()
        if scheme == {**scheme, "type": "apiKey", "in": "header", "name": "x-api-key"}
    }
    default = document.get("security", [])
    return {
        (path, verb): any(set(requirement) & scheme_names for requirement in operation.get("security", default))
        for path, operations in document["paths"].items()
        for verb, operation in operations.items()
        if verb in VERBS
    }


def test_the_document_is_openapi_3_with_the_api_key_scheme(document):
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["api_key"] == {
        **document["components"]["securitySchemes"]["api_key"],
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }


def test_every_served_route_is_documented_with_the_same_key_requirement(cfn, document):
    documented = _documented(document)
    for route, keyed in _served(cfn).items():
        assert route in documented, f"{route} is served but not in {OPENAPI_PATH.name}"
        assert documented[route] == keyed, f"{route}: template says key={keyed}, the document says {documented[route]}"


def test_every_documented_route_is_served(cfn, document):
    served = _served(cfn)
    missing = sorted(route for route in _documented(document) if route not in served)
    assert missing == [], f"documented in {OPENAPI_PATH.name} but not in template.yaml: {missing}"


def test_only_the_webhooks_are_documented_without_a_key(document):
    keyless = sorted(route for route, keyed in _documented(document).items() if not keyed)
    assert keyless == [("/webhooks/{source}", "post")]


def test_every_documented_operation_answers_the_gateway_refusals(document):
    for path, operations in document["paths"].items():
        for verb, operation in operations.items():
            codes = set(operation["responses"])
            keyed = operation.get("security", document["security"]) != []
            if keyed:
                assert {"403", "429"} <= codes, f"{verb.upper()} {path} does not document 403/429"
            assert any(code.startswith("2") for code in codes), f"{verb.upper()} {path} has no success answer"


def test_every_local_reference_resolves(document):
    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for ref in refs(document):
        if ref.startswith("#/"):
            node = document
            for part in ref[2:].split("/"):
                assert part in node, f"{ref} does not resolve"
                node = node[part]
        else:
            assert (OPENAPI_PATH.parent / ref).is_file(), f"{ref} is not a file next to the document"
