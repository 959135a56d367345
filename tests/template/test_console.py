"""The back-office portal in the template: a Cognito user pool with the groups viewers and
operators and a public app client for the code flow; the REQUEST authorizer on every /console
route but sign-in and its callback; no /console route that an API key alone opens."""

from translate import is_get_att, is_ref, props, resources_of_type

PUBLIC = {"/console/sign-in", "/console/callback"}


def _console_operations(cfn):
    body = props(cfn, "OrdersApi")["Body"]
    operations = [
        (path, verb, operation)
        for path, verbs in body["paths"].items()
        if path == "/console" or path.startswith("/console/")
        for verb, operation in verbs.items()
    ]
    assert operations, "the API serves the console"
    return body, operations


def test_the_user_pool_has_the_portals_two_groups_and_only_admins_create_users(cfn):
    pool = props(cfn, "ConsoleUserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    groups = {g["GroupName"]: g for g in (r["Properties"] for r in resources_of_type(cfn, "AWS::Cognito::UserPoolGroup").values())}
    assert sorted(groups) == ["operators", "viewers"]
    assert all(is_ref(g["UserPoolId"], "ConsoleUserPool") for g in groups.values())


def test_the_app_client_is_public_and_uses_the_code_flow_back_to_the_console_only(cfn):
    client = props(cfn, "ConsoleAppClient")
    assert client["GenerateSecret"] is False, "a browser flow with PKCE has no client secret to keep"
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthScopes"] == ["openid"]
    assert client["CallbackURLs"] == [{"Fn::Sub": "${ConsoleUrl}/callback"}]
    assert client["LogoutURLs"] == [{"Fn::Sub": "${ConsoleUrl}/sign-in"}]
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_every_console_route_but_sign_in_and_callback_goes_through_the_cookie_authorizer(cfn):
    body, operations = _console_operations(cfn)
    authorizer = body["securityDefinitions"]["ConsoleAuthorizer"]
    assert authorizer["x-amazon-apigateway-authtype"] == "custom"
    spec = authorizer["x-amazon-apigateway-authorizer"]
    assert spec["type"] == "request"
    assert spec["identitySource"] == "method.request.header.Cookie"
    assert "'Fn::GetAtt': ['BackofficeAuthorizerFunction', 'Arn']" in str(spec["authorizerUri"])
    guarded = set()
    for path, verb, operation in operations:
        names = [name for requirement in operation.get("security", []) for name in requirement]
        if path in PUBLIC:
            assert names == [], f"{verb} {path} must open without a session: {names}"
        else:
            assert names == ["ConsoleAuthorizer"], f"{verb} {path}: {names}"
            guarded.add(path)
    assert guarded == {"/console", "/console/{proxy+}"}
    assert {path for path, _, _ in operations} >= PUBLIC


def test_no_console_route_opens_with_only_an_api_key(cfn):
    _, operations = _console_operations(cfn)
    for path, verb, operation in operations:
        names = {name for requirement in operation.get("security", []) for name in requirement}
        assert "api_key" not in names, f"{verb} {path} would take an API key"
        assert path in PUBLIC or "ConsoleAuthorizer" in names, f"{verb} {path} is open"


def test_a_console_page_without_a_session_is_sent_to_sign_in(cfn):
    response = props(cfn, "OrdersApi")
    responses = response["Body"]["x-amazon-apigateway-gateway-responses"]
    unauthorized = responses["UNAUTHORIZED"]
    assert str(unauthorized["statusCode"]) == "302"
    assert unauthorized["responseParameters"]["gatewayresponse.header.Location"] == {"Fn::Sub": "'/${Stage}/console/sign-in'"}


def test_the_portal_function_reads_the_pool_and_its_authorizer_validates_for_its_client(cfn):
    env = props(cfn, "BackofficeFunction")["Environment"]["Variables"]
    assert is_ref(env["COGNITO_CLIENT_ID"], "ConsoleAppClient")
    assert is_ref(env["CONSOLE_URL"], "ConsoleUrl")
    auth_env = props(cfn, "BackofficeAuthorizerFunction")["Environment"]["Variables"]
    assert is_ref(auth_env["COGNITO_CLIENT_ID"], "ConsoleAppClient")
    assert auth_env["COGNITO_ISSUER"] == {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${ConsoleUserPool}"}
    permissions = [
        p["Properties"] for p in resources_of_type(cfn, "AWS::Lambda::Permission").values()
        if is_ref(p["Properties"]["FunctionName"], "BackofficeAuthorizerFunction")
        or is_get_att(p["Properties"]["FunctionName"], "BackofficeAuthorizerFunction")
    ]
    assert permissions and all(p["Principal"] == "apigateway.amazonaws.com" for p in permissions)
