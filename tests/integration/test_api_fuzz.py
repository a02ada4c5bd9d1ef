"""The API fuzzed from its own OpenAPI document (schemathesis), bounded, as two roles — the province
administrator (every capability) and a grid worker (the narrowest field role) — over the casework
test world: no answer may be a server error (≥ 500), and every error keeps the one JSON body.

Generated cases are positive (what the schema allows) and negative (what it forbids); Hypothesis runs
derandomized, so a failure shows again on the next run. Operations left out are listed in LEFT_OUT
with the reason.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode

from tests.integration.test_casework import world  # noqa: F401 (a fixture)

SESSION_COOKIE = "safetynet_session"
#: (method, path) → why it is not fuzzed
LEFT_OUT = {
    ("POST", "/api/v1/auth/logout"): "ends the fuzzing session itself",
    ("POST", "/api/v1/auth/password"): "wrong current passwords lock the account the fuzzing uses",
    ("POST", "/api/v1/auth/login"): "sign-in throttling is its own test (tests/integration/test_auth*.py)",
    ("POST", "/api/v1/auth/totp/setup"): "replaces the fuzzing account's second factor",
    ("POST", "/api/v1/auth/totp/confirm"): "replaces the fuzzing account's second factor",
    ("POST", "/api/v1/simulate"): "a province-wide simulation per case (seconds each), tested on its own",
    ("POST", "/api/v1/assessment-runs"): "a province-wide assessment per case, tested on its own",
}
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 4}


def _operations(schema):  # noqa: ANN001, ANN202
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) not in LEFT_OUT and not op.path.startswith("/api/v1/docs"):
            yield op


def _content_type(response) -> str:  # noqa: ANN001
    value = response.headers.get("content-type") or [""]  # schemathesis keeps each header as a list
    return (value[0] if isinstance(value, list) else value).split(";")[0].strip()


def _fuzz(schema, cookie: str) -> list[str]:  # noqa: ANN001
    failures: list[str] = []
    for op in _operations(schema):
        for mode, examples in EXAMPLES.items():
            @hypothesis.settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                                 suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
            @given(case=op.as_strategy(generation_mode=mode))
            def check(case) -> None:  # noqa: ANN001
                response = case.call(cookies={SESSION_COOKIE: cookie})
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {case.as_curl_command()}")
                elif response.status_code >= 400 and _content_type(response) == "application/json":
                    body = response.json()
                    if not (isinstance(body, dict) and {"code", "message", "message_zh"} <= body.keys()):
                        failures.append(f"error body {body!r}: {case.as_curl_command()}")

            try:
                check()
            except hypothesis.errors.Unsatisfiable:  # nothing to send wrong (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, op
    return failures


@pytest.mark.slow
def test_no_server_error_for_any_generated_request_as_two_roles(client_as, world):  # noqa: F811
    admin = client_as("province_admin", "37")
    _, users, _ = world
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client_as.app)
    failures = []
    for client in (admin, users["grid"]):
        cookie = client.cookies.get(SESSION_COOKIE)
        assert cookie
        failures += _fuzz(schema, cookie)
        assert client.get("/api/v1/auth/me").status_code == 200  # still signed in: the run was real
    assert not failures, "\n".join(failures[:20])
