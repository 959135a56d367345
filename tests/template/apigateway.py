"""API Gateway's mapping templates, rendered here: Velocity (airspeed-ext) with the `$input`,
`$util` and `$context` variables that API Gateway gives a REST API's templates.

What each variable does follows AWS's reference, "Variables for data transformations for API
Gateway". Where this is simpler than API Gateway, it says so:
- Only what the templates use: `$input.body`, `$input.path` (dotted paths, `$.a.b`; anything else
  raises), `$input.params(name)`, `$util.urlEncode`, `$util.base64Encode`; a template that needs
  more renders the call as text and its test fails.
- `$input.params(name)` looks in path, query string, then headers; header names match without
  regard to case, as HTTP has them.
- `$util.urlEncode` is Java's `URLEncoder.encode(s, "UTF-8")` (what API Gateway runs): letters,
  digits and `.-*_` stay, a space becomes `+`, every other byte of the UTF-8 text is `%XX`.
- `$util.base64Encode` is standard base64 (with padding) of the UTF-8 text.
- `$context.error.messageString` is the message quoted for JSON, as API Gateway documents it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import airspeed


def url_encode(text: str) -> str:
    out = []
    for byte in str(text).encode("utf-8"):
        char = chr(byte)
        if char.isascii() and (char.isalnum() or char in ".-*_"):
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.append("%%%02X" % byte)
    return "".join(out)


def _dotted(body: Any, path: str) -> Any:
    if path == "$":
        return body
    if not path.startswith("$.") or any(c in path for c in "[]*?@"):
        raise NotImplementedError(f"only dotted JSONPaths are emulated, not {path!r}")
    node = body
    for part in path[2:].split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


class Util:
    def urlEncode(self, text):  # noqa: N802 (API Gateway's names)
        return url_encode(text)

    def base64Encode(self, text):  # noqa: N802
        return base64.b64encode(str(text).encode("utf-8")).decode("ascii")


class Input:
    def __init__(self, body: str, headers: dict[str, str], path: dict[str, str], query: dict[str, str]):
        self.body = body
        self._headers = {k.lower(): v for k, v in headers.items()}
        self._path = path
        self._query = query

    def _parsed(self):
        return json.loads(self.body)

    def path(self, path):
        return _dotted(self._parsed(), path)

    def params(self, name):
        for source in (self._path, self._query):
            if name in source:
                return source[name]
        return self._headers.get(name.lower(), "")


def render(
    template: str,
    body: str,
    *,
    headers: dict[str, str] | None = None,
    path: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    request_id: str = "c0ffee00-0000-4000-8000-000000000001",
    error_message: str | None = None,
) -> str:
    """The text API Gateway makes of `template` for one request (or integration response)."""
    context = {"requestId": request_id}
    if error_message is not None:
        context["error"] = {"message": error_message, "messageString": json.dumps(error_message)}
    namespace = {
        "input": Input(body, headers or {}, path or {}, query or {}),
        "util": Util(),
        "context": context,
    }
    return airspeed.Template(template).merge(namespace)
