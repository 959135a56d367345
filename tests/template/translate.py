"""Offline translation of template.yaml (SAM) into plain CloudFormation, plus helpers to inspect it.

samtranslator runs in-process with no AWS credentials: it only needs a boto3 session that knows a
region (for pseudo parameters and partitions). Local CodeUri values (`./`) are swapped for an
s3:// placeholder first, because the translator only understands S3 locations. The template's
Fn::ForEach loops (AWS::LanguageExtensions) are expanded first with SAM CLI's own expander, the
one `sam build` and `sam validate` use; nothing else of the language extensions is resolved, so
intrinsics stay as written.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any, Iterator

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samcli.lib.cfn_language_extensions.api import create_default_intrinsic_resolver
from samcli.lib.cfn_language_extensions.models import TemplateProcessingContext
from samcli.lib.cfn_language_extensions.pipeline import ProcessingPipeline
from samcli.lib.cfn_language_extensions.processors import ForEachProcessor, TemplateParsingProcessor
from samtranslator.yaml_helper import yaml_parse

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
REGION = "us-west-2"
PLACEHOLDER_CODE_URI = "s3://orderflow-placeholder-artifacts/code.zip"

# AWS managed policies a generated role may carry. Their statements live in AWS, not in the
# template, so the statement check cannot see them; each one here is a reviewed exception.
# SAM attaches the first two to every function (logs, and X-Ray because Tracing is Active).
# An SQS or DynamoDB-stream event source makes SAM attach AWSLambdaSQSQueueExecutionRole or
# AWSLambdaDynamoDBExecutionRole (Resource "*"): add them here only on purpose.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}

_SERVERLESS_CODE_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
}


def load_sam_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """template.yaml as a dict, short-form intrinsics (!Ref, !Sub, ...) turned into long form."""
    return yaml_parse(path.read_text(encoding="utf-8"))


def expand_for_each(template: dict[str, Any]) -> dict[str, Any]:
    """The template with its Fn::ForEach loops replaced by the resources they generate."""
    context = TemplateProcessingContext(fragment=copy.deepcopy(template), parameter_values={})
    expander = ForEachProcessor(intrinsic_resolver=create_default_intrinsic_resolver(context))
    expanded = ProcessingPipeline([TemplateParsingProcessor(), expander]).process_template(context)
    # What is left is for the SAM transform alone.
    expanded["Transform"] = [t for t in as_list(expanded["Transform"]) if t != "AWS::LanguageExtensions"]
    return expanded


def _with_placeholder_code_uris(template: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(template)
    for resource in template.get("Resources", {}).values():
        prop = _SERVERLESS_CODE_PROPERTIES.get(resource.get("Type", ""))
        props = resource.get("Properties", {})
        value = props.get(prop) if prop else None
        # Local paths only; inline definitions (dicts) and s3:// URIs are left alone.
        if isinstance(value, str) and not value.startswith("s3://"):
            props[prop] = PLACEHOLDER_CODE_URI
    # Globals can also name a CodeUri.
    for section, prop in (("Function", "CodeUri"), ("Api", "DefinitionUri"), ("HttpApi", "DefinitionUri")):
        value = template.get("Globals", {}).get(section, {}).get(prop)
        if isinstance(value, str) and not value.startswith("s3://"):
            template["Globals"][section][prop] = PLACEHOLDER_CODE_URI
    return template


@functools.lru_cache(maxsize=None)
def _translate_cached(path: str, parameters_json: str, region: str) -> str:
    template = _with_placeholder_code_uris(expand_for_each(load_sam_template(Path(path))))
    session = boto3.session.Session(
        region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session)
    cfn = translator.translate(
        template, parameter_values=json.loads(parameters_json), get_managed_policy_map=lambda: {}
    )
    return json.dumps(cfn)


def translate(
    parameters: dict[str, Any] | None = None, path: Path = TEMPLATE_PATH, region: str = REGION
) -> dict[str, Any]:
    """The CloudFormation that SAM generates from the template (a fresh copy on every call).

    Raises samtranslator's InvalidDocumentException with SAM's own message if the template is wrong.
    """
    params = json.dumps(parameters or {}, sort_keys=True)
    return json.loads(_translate_cached(str(path), params, region))


# --- looking things up in the generated CloudFormation ------------------------------------------


def resources_of_type(cfn: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == resource_type}


def props(cfn: dict[str, Any], logical_id: str) -> dict[str, Any]:
    try:
        return cfn["Resources"][logical_id].get("Properties", {})
    except KeyError:
        raise AssertionError(
            f"no resource {logical_id!r} in the generated template; have: {sorted(cfn['Resources'])}"
        ) from None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def is_get_att(value: Any, logical_id: str, attribute: str = "Arn") -> bool:
    """True for {"Fn::GetAtt": [logical_id, attribute]} (or its dotted string form)."""
    if not isinstance(value, dict) or list(value) != ["Fn::GetAtt"]:
        return False
    target = value["Fn::GetAtt"]
    if isinstance(target, str):
        target = target.split(".", 1)
    return list(target) == [logical_id, attribute]


def is_ref(value: Any, logical_id: str) -> bool:
    return value == {"Ref": logical_id}


def names(value: Any, logical_id: str, attribute: str | None = None) -> bool:
    """True if value is the resource's Ref (attribute None) or attribute, written as Ref, GetAtt
    or a Fn::Sub of exactly "${logical_id}" / "${logical_id.attribute}" (as the ForEach loops do)."""
    if attribute is None:
        return is_ref(value, logical_id) or value == {"Fn::Sub": "${%s}" % logical_id}
    return is_get_att(value, logical_id, attribute) or value == {"Fn::Sub": "${%s.%s}" % (logical_id, attribute)}


def role_of_function(cfn: dict[str, Any], function_id: str) -> str:
    role = props(cfn, function_id)["Role"]
    assert isinstance(role, dict) and "Fn::GetAtt" in role, f"{function_id} has no generated role: {role!r}"
    return as_list(role["Fn::GetAtt"])[0].split(".")[0]


# --- IAM least privilege -------------------------------------------------------------------------


def function_statements(cfn: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    """The identity-policy statements of a function's generated role; there must be some."""
    role = role_of_function(cfn, function_id)
    found = [s for where, s in iam_statements(cfn) if where.startswith(f"{role}/")]
    assert found, f"{function_id}'s role {role} has no statements"
    return found


def iam_statements(cfn: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy in the template, as (where, statement).

    Covers inline policies of AWS::IAM::Role and the documents of AWS::IAM::Policy,
    AWS::IAM::RolePolicy and AWS::IAM::ManagedPolicy (SAM connectors generate those).
    Trust policies (AssumeRolePolicyDocument) are not identity policies and are skipped.
    """
    for name, resource in cfn["Resources"].items():
        rtype, rprops = resource["Type"], resource.get("Properties", {})
        documents: list[tuple[str, Any]] = []
        if rtype == "AWS::IAM::Role":
            for policy in rprops.get("Policies", []):
                documents.append((f"{name}/{policy.get('PolicyName', '?')}", policy.get("PolicyDocument")))
        elif rtype in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy"):
            documents.append((name, rprops.get("PolicyDocument")))
        for where, document in documents:
            assert isinstance(document, dict), f"{where}: policy document is not a literal: {document!r}"
            for i, statement in enumerate(as_list(document.get("Statement", []))):
                yield f"{where}#{statement.get('Sid', i)}", statement


def _is_wildcard_resource(resource: Any) -> bool:
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        resource = as_list(resource["Fn::Sub"])[0]
    if not isinstance(resource, str):
        return False  # Ref / GetAtt of a resource: specific by construction
    if resource.strip() == "*":
        return True
    # arn:aws:sqs:*:*:* or arn:aws:s3:::* : nothing named after the service.
    parts = resource.split(":")
    return resource.startswith("arn:") and len(parts) >= 6 and all(p in ("", "*") for p in parts[3:])


def statement_problems(statement: dict[str, Any]) -> list[str]:
    """Why an Allow statement is broader than "these actions on these resources" (empty if fine).

    Deny statements are not checked: a broad deny only takes permissions away.
    """
    if statement.get("Effect") != "Allow":
        return []
    problems = []
    for key in ("NotAction", "NotResource"):
        if key in statement:
            problems.append(f"uses {key}")
    actions = as_list(statement.get("Action", []))
    if not actions:
        problems.append("names no Action")
    for action in actions:
        if not isinstance(action, str):
            problems.append(f"action is not a literal: {action!r}")
        elif "*" in action:
            problems.append(f"wildcard action {action!r}")
    resources = as_list(statement.get("Resource", []))
    if not resources:
        problems.append("names no Resource")
    for resource in resources:
        if _is_wildcard_resource(resource):
            problems.append(f"wildcard resource {resource!r}")
    return problems


def broad_statements(cfn: dict[str, Any]) -> dict[str, list[str]]:
    """{where: problems} for every too-broad statement in the template."""
    return {where: p for where, s in iam_statements(cfn) if (p := statement_problems(s))}
