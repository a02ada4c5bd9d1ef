"""`POST /api/v1/assess` through a small app that mounts the rules router as the platform does."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from fastapi.testclient import TestClient

from safetynet.api.app import add_error_handlers
from safetynet.rules.api import router
from tests.rules.assess_cases import SPEC_OUTPUT, family, spec_example


def _client(lookup=None) -> TestClient:
    app = FastAPI()
    add_error_handlers(app)  # the platform's error bodies
    app.include_router(router, prefix="/api/v1")
    if lookup is not None:
        app.state.standards_lookup = lookup
    return TestClient(app)


def test_spec_example_answers_200():
    response = _client().post("/api/v1/assess", json=spec_example())
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in SPEC_OUTPUT} == SPEC_OUTPUT
    assert any(e["rule"] == "extremely_poor.no_work_capacity" for e in body["explanation"])


def test_invalid_input_answers_422_with_our_error_body():
    payload = spec_example()
    payload["members"][0]["income_monthly"]["wage"] = -5
    response = _client().post("/api/v1/assess", json=payload)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and body["field"] == "members[0].income_monthly.wage"
    assert "≥ 0" in body["message"] and body["message_zh"].startswith("输入有误")


def test_unknown_field_wrong_type_and_bad_enum_answer_422():
    client = _client()
    for mutate, field in [
        (lambda p: p.update(extra=1), "extra"),
        (lambda p: p["assets"].update(homes="one"), "assets.homes"),
        (lambda p: p.update(registration="suburban"), "registration"),
        (lambda p: p["members"][0].update(birth_date="1950/03/01"), "members[0].birth_date"),
    ]:
        payload = spec_example()
        mutate(payload)
        response = client.post("/api/v1/assess", json=payload)
        assert response.status_code == 422, field
        assert response.json()["field"] == field


def test_malformed_body_answers_422():
    client = _client()
    response = client.post("/api/v1/assess", content=b"{not json",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["code"] == "invalid"
    response = client.post("/api/v1/assess", json=[1, 2, 3])
    assert response.status_code == 422 and "JSON object" in response.json()["message"]


def test_the_app_standards_lookup_fills_missing_local_values():
    seen = []

    def lookup(region, registration, as_of):
        seen.append((region, registration, as_of))
        return {"dibao_standard": 824}

    payload = family(region="370402001001")
    del payload["local_policy"]["dibao_standard"]
    body = _client(lookup).post("/api/v1/assess", json=payload).json()
    assert seen == [("370402001001", "urban", dt.date(2025, 7, 1))]
    assert body["benefits_monthly"]["dibao"] == (824 - 300) * 3


def test_openapi_documents_the_route():
    schema = _client().get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/assess"]["post"]
    assert "422" in operation["responses"]
    assert operation["requestBody"]["content"]["application/json"]["example"]["registration"] == "urban"
