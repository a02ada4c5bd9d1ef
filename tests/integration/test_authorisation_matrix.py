"""Who may call what (issue 6): every /api/v1 route × every role × an object in the user's
own region and one in another county.

POLICY declares each route: the capability it needs, what region-scoped object it fetches,
and how to call it. A route that exists in the app but not in POLICY fails
`test_every_route_is_declared`, so a new route has to be declared here (add one line).
Expectations follow from auth.model.ROLE_CAPABILITIES and the users' regions:
- no capability → 403 `forbidden`;
- capability, object outside the user's region → 404 (as if it did not exist);
- capability, object in region → anything but 401/403-forbidden/404 (422 for a deliberately
  empty body to an expensive POST counts: authorisation passed, validation ran).
List endpoints are also checked never to return rows from outside the region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from safetynet.auth.model import ROLE_CAPABILITIES, Role
from safetynet.monitoring.store import warnings
from safetynet.monitoring.warnings import finish_run, record_warnings, start_run
from safetynet.registry import service as registry_service
from safetynet.registry.store import households, persons
from tests.factories import TODAY, make_id, sample_register, write_register

API = "/api/v1"
OWN_VILLAGE = "370402001001"     # the sample register's village (Zaozhuang Shizhong 枣庄市中区)
OTHER_VILLAGE = "370102001001"   # a village in another city's county (Jinan Lixia 济南历下区)

# where each role's user sits; all of them contain OWN_VILLAGE
HOME: dict[Role, str] = {
    Role.province_admin: "37",
    Role.city_admin: "3704",
    Role.county_admin: "370402",
    Role.township_caseworker: "370402001000",
    Role.township_reviewer: "370402001000",
    Role.grid_worker: "37040200100101",  # grid 1 of OWN_VILLAGE, where household H001 is
    Role.department_liaison: "3704",
    Role.charity: "370402",
    Role.auditor: "370402",
    Role.data_officer: "37",
}

PUBLIC = "public"      # answered without sign-in
SIGNED_IN = None       # any signed-in user
# the heads of H001 (sample register) and H900 (world below), who apply for their households
_HEADS = {"H001": make_id("1975-04-02", 11, sex="M"),
          "H900": make_id("1950-03-03", 91, prefix="370102", sex="M")}


@dataclass(frozen=True)
class Policy:
    capability: str | None           # PUBLIC, SIGNED_IN (None) or a capability
    scoped: bool = False             # fetches an object that lives in a region
    call: Callable[[dict, str], tuple[str, dict | None]] | None = None  # (ctx, "own"/"other") → url, body
    list_key: str | None = None      # list endpoint: rows carry this region field
    outside: int = 404               # answer for an object outside the region (POST /users: 403)
    missing_ok: bool = False         # in region but the id is made up: 404 is fine
    skip: str | None = None          # declared, but exercised elsewhere (reason)


def _get(path: str) -> Callable:
    return lambda ctx, which: (path.format(**ctx[which]), None)


def _post(path: str, body: dict | Callable | None = None) -> Callable:
    def call(ctx: dict, which: str) -> tuple[str, dict]:
        return path.format(**ctx[which]), body(ctx[which]) if callable(body) else (body or {})

    return call


# (method, path) → Policy. Keep in step with the app: declare every new route here.
POLICY: dict[tuple[str, str], Policy] = {
    ("GET", f"{API}/openapi.json"): Policy(PUBLIC, call=_get(f"{API}/openapi.json")),
    ("GET", f"{API}/docs"): Policy(PUBLIC, call=_get(f"{API}/docs")),
    ("GET", f"{API}/health"): Policy(PUBLIC, call=_get(f"{API}/health")),
    ("POST", f"{API}/auth/login"): Policy(PUBLIC, skip="test_auth.py"),
    ("POST", f"{API}/auth/logout"): Policy(SIGNED_IN, skip="ends the session; test_auth.py"),
    ("GET", f"{API}/auth/me"): Policy(SIGNED_IN, call=_get(f"{API}/auth/me")),
    ("POST", f"{API}/auth/totp/setup"): Policy(SIGNED_IN, skip="administrators only by role; test_auth.py"),
    ("POST", f"{API}/auth/totp/confirm"): Policy(SIGNED_IN, skip="test_auth.py"),
    # an empty body: authorisation passes, validation answers 422 (the round trip: test_auth_account.py)
    ("POST", f"{API}/auth/password"): Policy(SIGNED_IN, call=_post(f"{API}/auth/password")),
    ("GET", f"{API}/users"): Policy("users.admin", call=_get(f"{API}/users?page_size=200"),
                                     list_key="region_code"),
    ("POST", f"{API}/users"): Policy("users.admin", scoped=True, outside=403, call=_post(
        f"{API}/users", lambda o: {"username": f"new{o['n']}", "password": "Test@2026pw",
                                   "role": "grid_worker", "region_code": o["village"]})),
    ("GET", f"{API}/users/{{username}}"): Policy("users.admin", scoped=True,
                                                  call=_get(f"{API}/users/{{username}}")),
    ("PATCH", f"{API}/users/{{username}}"): Policy("users.admin", scoped=True, call=_post(
        f"{API}/users/{{username}}", {"display_name": "改名"})),
    ("GET", f"{API}/audit"): Policy("audit.read", call=_get(f"{API}/audit?page_size=200"),
                                     list_key="actor_region"),
    ("GET", f"{API}/registry/summary"): Policy("registry.read", call=_get(f"{API}/registry/summary")),
    # exports of the lists (issue 16): the list's capability and scope (contents: test_exports.py)
    ("GET", f"{API}/audit/export.xlsx"): Policy("audit.read", call=_get(f"{API}/audit/export.xlsx")),
    ("GET", f"{API}/households/export.xlsx"): Policy("registry.read",
                                                      call=_get(f"{API}/households/export.xlsx")),
    ("GET", f"{API}/warnings/export.xlsx"): Policy("warnings.read", call=_get(f"{API}/warnings/export.xlsx")),
    ("GET", f"{API}/tasks/export.xlsx"): Policy("tasks.read", call=_get(f"{API}/tasks/export.xlsx")),
    # an empty body: authorisation passes, validation answers 422 (the upload: test_exports.py)
    ("POST", f"{API}/tasks/feedback/bulk"): Policy("tasks.work", call=_post(f"{API}/tasks/feedback/bulk")),
    ("GET", f"{API}/households"): Policy("registry.read", call=_get(f"{API}/households?page_size=200"),
                                          list_key="region_code"),
    ("GET", f"{API}/households/{{household_no}}"): Policy(
        "registry.read", scoped=True, call=_get(f"{API}/households/{{household}}")),
    ("GET", f"{API}/persons/{{person_id}}"): Policy("registry.read", scoped=True,
                                                     call=_get(f"{API}/persons/{{person}}")),
    ("POST", f"{API}/persons/{{person_id}}/unmask"): Policy("registry.unmask", scoped=True, call=_post(
        f"{API}/persons/{{person}}/unmask", {"purpose": "核对身份"})),
    ("GET", f"{API}/dashboard/summary"): Policy("dashboard.read", scoped=True,
                                                 call=_get(f"{API}/dashboard/summary?region={{home}}")),
    ("GET", f"{API}/regions/{{code}}"): Policy(SIGNED_IN, scoped=True, call=_get(f"{API}/regions/{{home}}")),
    ("GET", f"{API}/regions/{{code}}/children"): Policy(SIGNED_IN, scoped=True,
                                                         call=_get(f"{API}/regions/{{home}}/children")),
    ("GET", f"{API}/feeds/loads"): Policy("feeds.read", call=_get(f"{API}/feeds/loads")),
    ("GET", f"{API}/standards"): Policy("standards.read", scoped=True,
                                         call=_get(f"{API}/standards?region={{home}}")),
    ("POST", f"{API}/assess"): Policy("rules.assess", call=_post(f"{API}/assess")),
    ("POST", f"{API}/counterfactual"): Policy("rules.assess", call=_post(f"{API}/counterfactual")),
    ("GET", f"{API}/linkage/candidates"): Policy("linkage.review", call=_get(f"{API}/linkage/candidates")),
    ("POST", f"{API}/linkage/candidates/{{candidate_id}}/accept"): Policy(
        "linkage.review", missing_ok=True, call=_post(f"{API}/linkage/candidates/999999/accept")),
    ("POST", f"{API}/linkage/candidates/{{candidate_id}}/reject"): Policy(
        "linkage.review", missing_ok=True, call=_post(f"{API}/linkage/candidates/999999/reject")),
    ("POST", f"{API}/simulate"): Policy("simulation.run", call=_post(f"{API}/simulate")),
    ("POST", f"{API}/households/{{household_no}}/authorisations"): Policy(
        "verification.authorise", scoped=True, call=_post(f"{API}/households/{{household}}/authorisations")),
    ("GET", f"{API}/households/{{household_no}}/authorisations"): Policy(
        "verification.read", scoped=True, call=_get(f"{API}/households/{{household}}/authorisations")),
    ("POST", f"{API}/households/{{household_no}}/authorisations/{{authorisation_id}}/revoke"): Policy(
        "verification.authorise", scoped=True, missing_ok=True,
        call=_post(f"{API}/households/{{household}}/authorisations/999999/revoke")),
    ("GET", f"{API}/households/{{household_no}}/verification"): Policy(
        "verification.read", scoped=True, call=_get(f"{API}/households/{{household}}/verification")),
    ("POST", f"{API}/assessment-runs"): Policy("assessment.run", call=_post(f"{API}/assessment-runs")),
    ("GET", f"{API}/assessment-runs"): Policy("assessment.read", call=_get(f"{API}/assessment-runs")),
    ("GET", f"{API}/assessment-runs/{{run_id}}"): Policy(
        "assessment.read", missing_ok=True, call=_get(f"{API}/assessment-runs/999999")),
    ("GET", f"{API}/assessment-runs/{{run_id}}/changes"): Policy(
        "assessment.read", missing_ok=True, call=_get(f"{API}/assessment-runs/999999/changes")),
    ("GET", f"{API}/warnings"): Policy("warnings.read", call=_get(f"{API}/warnings?page_size=200"),
                                        list_key="region_code"),
    ("GET", f"{API}/warnings/summary"): Policy("warnings.read", scoped=True,
                                                call=_get(f"{API}/warnings/summary?region={{home}}")),
    ("GET", f"{API}/warnings/runs"): Policy("warnings.runs", call=_get(f"{API}/warnings/runs")),
    ("GET", f"{API}/warnings/{{warning_id}}"): Policy("warnings.read", scoped=True,
                                                       call=_get(f"{API}/warnings/{{warning}}")),
    ("GET", f"{API}/warnings/{{warning_id}}/evidence"): Policy(
        "warnings.read", scoped=True, call=_get(f"{API}/warnings/{{warning}}/evidence")),
    # the closed loop (issue 7): "task" is the household's department push (medical: the liaison's)
    ("GET", f"{API}/tasks"): Policy("tasks.read", call=_get(f"{API}/tasks?page_size=200"),
                                    list_key="region_code"),
    ("GET", f"{API}/tasks/counts"): Policy("tasks.read", call=_get(f"{API}/tasks/counts")),
    ("GET", f"{API}/tasks/forms"): Policy(SIGNED_IN, call=_get(f"{API}/tasks/forms")),
    ("GET", f"{API}/tasks/figures"): Policy("dashboard.read", scoped=True,
                                            call=_get(f"{API}/tasks/figures?region={{home}}")),
    ("GET", f"{API}/tasks/{{task_id}}"): Policy("tasks.read", scoped=True,
                                                call=_get(f"{API}/tasks/{{task}}")),
    # "start" on a task nobody accepted: 409 in the region, 404 outside (no state changes)
    ("POST", f"{API}/tasks/{{task_id}}/visit-contact"): Policy("tasks.read", scoped=True, call=_post(
        f"{API}/tasks/{{task}}/visit-contact", {"purpose": "入户核查"})),
    ("POST", f"{API}/tasks/{{task_id}}/actions"): Policy("tasks.work", scoped=True, call=_post(
        f"{API}/tasks/{{task}}/actions", {"action": "start"})),
    ("POST", f"{API}/tasks/{{task_id}}/feedback"): Policy("tasks.work", scoped=True, call=_post(
        f"{API}/tasks/{{task}}/feedback")),
    ("GET", f"{API}/tasks/{{task_id}}/feedback/{{feedback_id}}/attachment"): Policy(
        "tasks.read", scoped=True, missing_ok=True,
        call=_get(f"{API}/tasks/{{task}}/feedback/999999/attachment")),
    ("POST", f"{API}/tasks/dispatch"): Policy("tasks.dispatch", call=_post(f"{API}/tasks/dispatch")),
    ("POST", f"{API}/tasks/sweep"): Policy("tasks.dispatch", call=_post(f"{API}/tasks/sweep")),
    ("GET", f"{API}/households/{{household_no}}/chain"): Policy(
        "registry.read", scoped=True, call=_get(f"{API}/households/{{household}}/chain")),
    ("GET", f"{API}/households/{{household_no}}/chain.xlsx"): Policy(
        "registry.read", scoped=True, call=_get(f"{API}/households/{{household}}/chain.xlsx")),
    ("POST", f"{API}/assistance"): Policy("assistance.record", scoped=True, call=_post(
        f"{API}/assistance",
        lambda o: {"household_no": o["household"], "kind": "other", "given_on": "2026-01-05"})),
    ("GET", f"{API}/notifications"): Policy(SIGNED_IN, call=_get(f"{API}/notifications")),
    ("POST", f"{API}/notifications/read"): Policy(SIGNED_IN, call=_post(f"{API}/notifications/read")),
    ("GET", f"{API}/routing"): Policy("tasks.read", call=_get(f"{API}/routing")),
    ("PUT", f"{API}/routing/{{need}}"): Policy("routing.admin", call=_post(f"{API}/routing/medical")),
    ("GET", f"{API}/calendar/years"): Policy(SIGNED_IN, call=_get(f"{API}/calendar/years")),
    ("GET", f"{API}/calendar/{{year}}"): Policy(SIGNED_IN, call=_get(f"{API}/calendar/2026")),
    ("PUT", f"{API}/calendar/{{year}}"): Policy("calendar.admin", call=_post(f"{API}/calendar/2031")),
    # applications (issue 17): the household head applies for dibao (after the first role: 409, one open
    # application per household and matter); the decision needs applications.decide (test_applications.py)
    ("GET", f"{API}/applications/matters"): Policy(SIGNED_IN, call=_get(f"{API}/applications/matters")),
    ("GET", f"{API}/applications"): Policy(
        "applications.read", call=_get(f"{API}/applications?page_size=200"), list_key="region_code"),
    ("POST", f"{API}/applications"): Policy("applications.intake", scoped=True, call=_post(
        f"{API}/applications", lambda o: {"matter": "dibao", "household_id": o["household"],
                                          "channel": "counter", "submitted_on": "2026-01-05",
                                          "applicant_id_number": _HEADS[o["household"]]})),
    ("GET", f"{API}/applications/{{application_id}}"): Policy(
        "applications.read", scoped=True, missing_ok=True, call=_get(f"{API}/applications/999999")),
    ("POST", f"{API}/applications/{{application_id}}/actions"): Policy(
        "applications.intake", scoped=True, missing_ok=True,
        call=_post(f"{API}/applications/999999/actions", {"action": "withdraw"})),
}


def _api_routes(app) -> set[tuple[str, str]]:  # noqa: ANN001
    out = set()
    for rc in iter_route_contexts(app.routes):
        path = rc.path or ""
        if not path.startswith(API + "/"):
            continue
        for method in sorted(getattr(rc, "methods", None) or {"GET"}):
            if method != "HEAD":
                out.add((method, path))
    return out


def test_every_route_is_declared(client_as):
    routes = _api_routes(client_as.app)
    missing = sorted(routes - POLICY.keys())
    assert not missing, f"declare these routes in POLICY of {__file__}: {missing}"
    gone = sorted(POLICY.keys() - routes)
    assert not gone, f"POLICY declares routes the app no longer has: {gone}"


def test_every_route_but_the_public_ones_needs_sign_in(client_as):
    anonymous = client_as.anonymous()
    for (method, path), policy in POLICY.items():
        url = path.replace("{", "").replace("}", "")  # any value: sign-in is checked first
        r = anonymous.request(method, url, json={} if method != "GET" else None)
        if policy.capability == PUBLIC:
            assert r.status_code != 401, (method, path)
        else:
            assert r.status_code == 401 and r.json()["code"] == "not_signed_in", (method, path, r.text)


@pytest.fixture
def world(client_as, tmp_path):  # noqa: ANN001
    """The sample register (H001–H003 in OWN_VILLAGE) plus H900 in another city's county, a
    user to administer in each, and one signed-in client per role. "own" objects lie in every
    role's region (H001 is in the grid worker's grid); "other" ones only in the province's."""
    h, p = sample_register()
    h.append(["H900", OTHER_VILLAGE, "rural", "北村9号", "", ""])
    p.append(["H900", make_id("1950-03-03", 91, prefix="370102", sex="M"), "张老汉", "M", "1950-03-03",
              "head", "dibao", "2024-05-01", "", "", "500.00"])
    registry_service.import_register(client_as.engine, directory=write_register(tmp_path / "reg", h, p),
                                     as_of=TODAY)
    with client_as.engine.connect() as c:
        pid = dict(c.execute(select(persons.c.name, persons.c.id)).all())
    warning = _warnings(client_as.engine, pid)
    task = _dispatch(client_as.engine)
    client_as.user("grid_worker", OWN_VILLAGE, username="target_own")
    client_as.user("grid_worker", OTHER_VILLAGE, username="target_other")
    ctx = {
        "own": {"household": "H001", "person": pid["张建国"], "username": "target_own",
                "village": OWN_VILLAGE, "warning": warning["H001"], "task": task["H001"]},
        "other": {"household": "H900", "person": pid["张老汉"], "username": "target_other",
                  "village": OTHER_VILLAGE, "home": OTHER_VILLAGE[:6], "warning": warning["H900"],
                  "task": task["H900"]},
    }
    clients = {role: client_as(role.value, HOME[role]) for role in Role}
    return ctx, clients


def _warnings(engine, pid: dict[str, int]) -> dict[str, int]:  # noqa: ANN001
    """One finished monitor run with a medical warning (the need pushed to the liaison's department,
    medical insurance) for H001's head and one for H900's: warning id by household."""
    with engine.connect() as c:
        found = {no: (hid, region) for no, hid, region in c.execute(
            select(households.c.household_no, households.c.id, households.c.region_code)
            .where(households.c.household_no.in_(["H001", "H900"])))}
        ids = dict(c.execute(select(persons.c.id, persons.c.id_number)
                             .where(persons.c.id.in_([pid["张建国"], pid["张老汉"]]))).all())
    candidates = [{"rule": "medical_oop_large", "id_number": ids[pid[name]], "person_id": pid[name],
                   "household_id": found[no][0], "household_no": no, "region_code": found[no][1],
                   "level": "orange", "need": "medical", "side": "entry", "value": "0.6",
                   "evidence": '[{"feed": "medical", "record_id": "m1", "month": "2026-01"}]'}
                  for name, no in (("张建国", "H001"), ("张老汉", "H900"))]
    run = start_run(engine, month="2026-01", engine_name="duckdb", catalogue_digest="d" * 64, actor="test")
    record_warnings(engine, run_id=run, month="2026-01", candidates=pa.Table.from_pylist(candidates),
                    suppression={"medical_oop_large": 3})
    finish_run(engine, run, seconds=1.0, counts={})
    with engine.connect() as c:
        return dict(c.execute(select(warnings.c.household_no, warnings.c.id)).all())


def _dispatch(engine) -> dict[str, int]:  # noqa: ANN001
    """The month's warnings as tasks: the department push's id by household."""
    from safetynet.casework.service import dispatch_month
    from safetynet.casework.store import tasks

    dispatch_month(engine, month="2026-01")
    with engine.connect() as c:
        return dict(c.execute(select(households.c.household_no, tasks.c.id)
                              .join(tasks, tasks.c.household_id == households.c.id)
                              .where(tasks.c.task_type == "department_push")).all())


def _in_scope(home: str, village: str) -> bool:
    from safetynet.regions.model import short_code

    prefix = short_code(home.ljust(12, "0")) if len(home) < 14 else home
    if len(prefix) == 14:  # a grid worker: only their grid (H001's grid lies in OWN_VILLAGE)
        return village == OWN_VILLAGE
    return village.startswith(prefix)


def test_roles_by_routes_by_region(world):
    ctx, clients = world
    failures = []
    n = 0
    for (method, _path), policy in POLICY.items():
        if policy.skip or policy.capability == PUBLIC:
            continue
        for role, client in clients.items():
            allowed = policy.capability is None or policy.capability in ROLE_CAPABILITIES[role]
            ctx["own"]["home"] = HOME[role]  # region-addressed routes: the user's own region
            for which in ("own", "other"):
                if which == "other" and not policy.scoped and not policy.list_key:
                    continue
                ctx[which]["n"] = n = n + 1
                url, body = policy.call(ctx, which)
                r = client.request(method, url, json=body)
                code = r.json().get("code") if r.headers.get("content-type", "").startswith(
                    "application/json") and isinstance(r.json(), dict) else None
                inside = which == "own" or _in_scope(HOME[role], OTHER_VILLAGE)
                if not allowed:
                    ok = r.status_code == 403 and code == "forbidden"
                    want = "403 forbidden"
                elif policy.scoped and not inside:
                    ok = r.status_code == policy.outside
                    want = str(policy.outside)
                else:
                    ok = (r.status_code < 500 and r.status_code != 401
                          and not (r.status_code == 403 and code == "forbidden")
                          and (r.status_code != 404 or policy.missing_ok))
                    want = "allowed"
                if not ok:
                    failures.append(f"{method} {url} as {role.value} ({which}): {r.status_code} "
                                    f"{r.text[:160]} — expected {want}")
                if ok and allowed and policy.list_key and r.status_code == 200:
                    rows = r.json()["items"]
                    home = HOME[role]
                    for row in rows:
                        value = row.get(policy.list_key)
                        if value is None and policy.list_key == "actor_region" and len(home) == 2:
                            continue  # a province reader sees sign-ins of unknown usernames
                        if len(home) == 14:
                            good = value == home or (value or "").startswith(OWN_VILLAGE)
                        else:
                            good = _in_scope(home, (value or "").ljust(12, "0")[:12])
                        if not good:
                            failures.append(f"{method} {url} as {role.value}: row outside region: {row}")
    assert not failures, "\n".join(failures)
