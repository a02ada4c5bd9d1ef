"""Applications and decisions (issue 17): the whole lifecycle through the CLI (its --json outputs as the
contract gives them) and through the API as caseworker and reviewer; every action refused in every state
the lifecycle does not allow it; due dates across National Day and an adjusted working weekend; no
decision before the notice ends; one open application per household and matter; a new household's
members validated and opened in the register; the approval's enrolment from the next month with the
rules' amount; the warning channel; region scoping — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from safetynet.applications import intake, service, sweep
from safetynet.applications.model import TRANSITIONS, Action, ApplicationError, Status, TransitionError
from safetynet.applications.store import application_documents, applications
from safetynet.audit.store import audit_log
from safetynet.cli.main import app as cli
from safetynet.errors import NotFoundError
from safetynet.registry import service as registry_service
from safetynet.registry import store as registry_store
from safetynet.standards import service as standards_service
from safetynet.verification import service as verification
from safetynet.workdays import service as workdays
from tests.factories import VILLAGE, make_id, write_register

runner = CliRunner()
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
TOWNSHIP = "370402001000"
OTHER_VILLAGE = "370102001001"  # Jinan Lixia: another city
HEAD = make_id("1970-03-01", 41, sex="M")
SPOUSE = make_id("1972-06-15", 42, sex="F")
# Monday 2026-09-28: National Day (1–7 October, 2026) and its adjusted working Saturday (10 October) ahead
MONDAY = "2026-09-28"
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)


def _person(
    household: str, number: str, name: str, relation: str, tier: str = "", since: str = ""
) -> list[str]:
    birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    return [household, number, name, "", birth, relation, tier, since, "", "", ""]


def _register(engine: Engine, tmp_path: Path) -> None:
    """H100: an urban couple without income (the rules give dibao 2 × 941); H101–H105 one person each;
    H104 holds dibao_edge; H900 lies in another city. Zaozhuang Shizhong's standards: 941 urban."""
    households = [
        ["H100", VILLAGE, "urban", "光明路1号", "1", ""],
        *[[f"H10{i}", VILLAGE, "urban", f"光明路{i}号", "", ""] for i in range(1, 6)],
        ["H900", OTHER_VILLAGE, "rural", "北村9号", "", ""],
    ]
    persons = [
        _person("H100", HEAD, "张建国", "head"),
        _person("H100", SPOUSE, "李秀英", "spouse"),
        *[
            _person(f"H10{i}", make_id(f"196{i}-01-0{i}", 50 + i, sex="M"), f"王{i}", "head")
            for i in range(1, 6)
            if i != 4
        ],
        _person("H104", make_id("1964-01-04", 54, sex="M"), "王4", "head", "dibao_edge", "2025-01-01"),
        _person("H900", make_id("1950-03-03", 91, prefix="370102", sex="M"), "张老汉", "head"),
    ]
    registry_service.import_register(
        engine, directory=write_register(tmp_path / "reg", households, persons), as_of=dt.date(2025, 1, 1)
    )
    standards_service.derive_from_dibao(
        engine,
        region="370402",
        effective_from=dt.date(2024, 1, 1),
        dibao_fen={"urban": 94100, "rural": 82400},
        source="test standards",
    )
    for no in ("H100", "H104"):
        verification.authorise(
            engine,
            household_no=no,
            signed_on=dt.date(2026, 6, 1),
            scope="income,assets",
            signer_name="张建国",
            document_ref=f"SQ-{no}",
            actor="test",
        )


def _id(no: int) -> str:
    return make_id(f"196{no}-01-0{no}", 50 + no, sex="M")


def _submission(**kw) -> dict:  # noqa: ANN003
    return {
        "matter": "dibao",
        "household_id": "H100",
        "applicant_id_number": HEAD,
        "submitted_on": MONDAY,
        "channel": "counter",
    } | kw


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Path:
    _register(engine, tmp_path)
    return tmp_path / "lake"


def _tiers(engine: Engine, household_no: str) -> list[tuple]:
    h, p, pt = registry_store.households, registry_store.persons, registry_store.person_tiers
    with engine.connect() as c:
        return sorted(
            c.execute(
                select(p.c.name, pt.c.tier, pt.c.since, pt.c.until, pt.c.monthly_benefit_fen)
                .join(pt, pt.c.person_id == p.c.id)
                .join(h, h.c.id == pt.c.household_id)
                .where(h.c.household_no == household_no)
            ).all()
        )


# --- the contract through the CLI -------------------------------------------------------------------


def _cli(*args: str) -> tuple[int, dict | None, str]:
    r = runner.invoke(cli, ["applications", *args])
    try:
        body = json.loads(r.stdout) if r.stdout.strip() else None
    except json.JSONDecodeError:
        body = None
    return r.exit_code, body, r.output


def test_dibao_lifecycle_through_the_cli(engine, world, settings_env, tmp_path):
    (tmp_path / "app.json").write_text(json.dumps(_submission()), encoding="utf-8")
    code, out, text = _cli("submit", str(tmp_path / "app.json"), "--json")
    assert code == 0, text
    # accepted on its date; 20 working days: 29, 30 Sep, (1–7 Oct off), 8, 9, Sat 10 Oct (worked) … 30 Oct
    assert out == {
        "application_id": out["application_id"],
        "matter": "dibao",
        "status": "accepted",
        "household_id": "H100",
        "accepted_on": MONDAY,
        "due_on": "2026-10-30",
    }
    n = str(out["application_id"])

    code, shown, _ = _cli("show", n, "--json")
    assert code == 0 and shown["investigation_due_on"] == "2026-10-08"  # 3 working days, across the holiday
    assert [h["action"] for h in shown["history"]] == ["submit", "accept"]
    assert shown["history"][1]["by"] == f"platform for township {TOWNSHIP}"
    assert shown["allowed_actions"] == ["investigate", "withdraw"]
    assert shown["assessment"] is None and shown["enrolment"] is None

    code, out, text = _cli("act", n, "approve", "--on", "2026-09-29", "--json")
    assert code == 1 and out["code"] == "transition_not_allowed"
    assert out["allowed_actions"] == ["investigate", "withdraw"] and "investigate, withdraw" in out["message"]
    code, _, text = _cli("act", n, "approve", "--on", "2026-09-29")  # the human form names them too
    assert code == 1 and "investigate, withdraw" in text

    code, out, text = _cli("act", n, "investigate", "--on", "2026-09-30", "--staff", "王芳,李强", "--json")
    assert code == 0, text
    assert out["status"] == "investigating" and out["investigating_on"] == "2026-09-30"
    assert out["investigators"] == ["王芳", "李强"]
    assert out["verification"]["attached"] is True and out["verification"]["month"] == "2026-08"
    assessment = out["assessment"]
    assert assessment["household_tier"] == "dibao" and assessment["benefits_monthly"]["dibao"] == "1882.00"
    assert any(e["rule"] == "dibao.household" for e in assessment["explanation"])
    with engine.connect() as c:
        kinds = (
            c.execute(
                select(application_documents.c.kind).where(application_documents.c.application_id == int(n))
            )
            .scalars()
            .all()
        )
    assert kinds == ["verification_report"]

    # dibao needs its public notice before a decision
    code, out, _ = _cli("act", n, "approve", "--on", "2026-10-08", "--json")
    assert code == 1 and set(out["allowed_actions"]) == {"notice", "refuse", "withdraw"}
    code, out, text = _cli("act", n, "notice", "--on", "2026-10-09", "--json")
    assert code == 0, text
    assert out["notice_on"] == "2026-10-09" and out["notice_until"] == "2026-10-15"  # 7 days
    code, out, _ = _cli("act", n, "approve", "--on", "2026-10-15", "--json")
    assert code == 1 and out["code"] == "notice_running" and "2026-10-16" in out["message"]
    code, out, _ = _cli("act", n, "refuse", "--on", "2026-10-12", "--reason", "x", "--json")
    assert code == 1 and out["code"] == "notice_running"

    code, out, text = _cli("act", n, "approve", "--on", "2026-10-16", "--json")
    assert code == 0, text
    assert out["status"] == "approved" and out["approved_on"] == "2026-10-16"
    assert out["enrolment"] == {"tier": "dibao", "starts_on": "2026-11-01", "monthly_amount": "1882.00"}
    assert [h["action"] for h in out["history"]] == ["submit", "accept", "investigate", "notice", "approve"]
    assert all(h["on"] and h["at"] and h["by"] for h in out["history"])
    assert out["allowed_actions"] == ["enrol"]
    # the register: each member dibao from the month after the decision, the rules' amount shared
    assert _tiers(engine, "H100") == [
        ("张建国", "dibao", dt.date(2026, 11, 1), None, 94100),
        ("李秀英", "dibao", dt.date(2026, 11, 1), None, 94100),
    ]
    before = registry_service.get_household(engine, household_no="H100", on=dt.date(2026, 10, 31))
    after = registry_service.get_household(engine, household_no="H100", on=dt.date(2026, 11, 1))
    assert (before.tier, after.tier) == ("none", "dibao")
    with engine.connect() as c:
        ledger = (
            c.execute(
                select(registry_store.registry_imports.c.source).order_by(
                    registry_store.registry_imports.c.id.desc()
                )
            )
            .scalars()
            .first()
        )
    assert ledger == f"application {n} (dibao) approved on 2026-10-16"

    code, out, _ = _cli("act", n, "withdraw", "--json")  # decided: no withdrawal
    assert code == 1 and out["allowed_actions"] == ["enrol"]
    code, out, text = _cli("sweep", "--on", "2026-10-31", "--json")
    assert code == 0 and out["enrolled"] == 0, text
    code, out, text = _cli("sweep", "--on", "2026-11-01", "--json")
    assert code == 0 and out["enrolled"] == 1, text
    code, shown, _ = _cli("show", n, "--json")
    assert shown["status"] == "enrolled" and shown["enrolled_on"] == "2026-11-01"
    assert shown["allowed_actions"] == []
    code, listed, _ = _cli("list", "--json", "--region", "370402")
    assert code == 0 and listed["total"] == 1
    assert (listed["items"][0]["household_id"], listed["items"][0]["status"]) == ("H100", "enrolled")
    assert _cli("list", "--json", "--region", "370102")[1]["total"] == 0
    r = runner.invoke(cli, ["applications", "show", n], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "dibao from 2026-11-01, 1882.00 yuan a month" in r.stdout


def test_cli_bad_input_names_the_file_the_field_and_what_valid_looks_like(
    engine, world, settings_env, tmp_path
):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            _submission(matter="pension", submitted_on="28/09/2026", applicant_id_number=HEAD[:-1] + "0")
        ),
        encoding="utf-8",
    )
    code, out, _ = _cli("submit", str(bad), "--json")
    assert code == 1 and out["status"] == "rejected"
    fields = {e["field"]: e["reason"] for e in out["errors"]}
    assert all(e["file"] == str(bad) for e in out["errors"])
    assert "dibao" in fields["matter"] and "YYYY-MM-DD" in fields["submitted_on"]
    assert "check digit" in fields["applicant_id_number"]
    code, _, text = _cli("submit", str(bad))
    assert code == 1 and "bad.json: matter:" in " ".join(text.split())
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    code, out, _ = _cli("submit", str(tmp_path / "broken.json"), "--json")
    assert code == 1 and "line 1" in out["errors"][0]["reason"]
    assert _cli("submit", str(tmp_path / "missing.json"))[0] == 2
    assert _cli("act", "1", "investigate", "--on", "30 Sep")[0] == 2
    code, out, _ = _cli("show", "999", "--json")
    assert code == 1 and out["code"] == "not_found"
    with engine.connect() as c:
        assert c.execute(select(applications.c.id)).first() is None  # nothing half-written


def test_catalogue_cli_and_a_province_catalogue(settings_env, tmp_path, monkeypatch):
    code, out, _ = _cli("catalogue", "--json", "--on", "2026-09-28")
    assert code == 0 and len(out["matters"]) == 13
    dibao = next(m for m in out["matters"] if m["id"] == "dibao")
    assert dibao["working_days"] == 20 and dibao["notice"]["value"] is True and dibao["decides"]["source"]
    medical = next(m for m in out["matters"] if m["id"] == "medical_assistance")
    assert (medical["decides"]["value"], medical["department"]["value"]) == (
        "department",
        "medical_insurance",
    )
    assert out["process_in_force"] == {
        "investigation_start_working_days": 3,
        "notice_days": 7,
        "refusal_notice_working_days": 3,
    }
    mine = tmp_path / "matters.yaml"
    assert _cli("catalogue", "--export", str(mine))[0] == 0
    text = mine.read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        text.replace("  - id: orphan_allowance", "  - id: orphans").replace(
            "department: {value: housing,", "department: {value: housing_office,"
        ),
        encoding="utf-8",
    )
    code, out, _ = _cli("catalogue", "--file", str(broken), "--json")
    assert code == 1
    problems = {(p["matter"], p["field"]) for p in out["errors"]}
    assert ("orphan_allowance", "id") in problems and ("housing_assistance", "department.value") in problems
    # a province installs its own: a 30-day limit and a new matter
    extra = text.replace(
        "working_days: 20, source: *shandong_limit}\n\n  - id: extremely_poor",
        'working_days: 30, source: "Qingdao: extended"}\n\n  - id: extremely_poor',
    )
    extra += (
        "\n  - id: heating_subsidy\n    name_zh: 冬季取暖补贴\n    name_en: Winter heating subsidy\n"
        "    enrols: null\n    decides: {value: county, source: local}\n"
        "    department: {value: civil_affairs, source: local}\n    notice: {value: false, source: local}\n"
        "    time_limit:\n      - {from: 2021-07-01, working_days: 10, source: local}\n"
    )
    (settings_env / "applications").mkdir(parents=True, exist_ok=True)
    (settings_env / "applications" / "catalogue.yaml").write_text(extra, encoding="utf-8")
    code, out, _ = _cli("catalogue", "--json", "--on", "2026-09-28")
    ids = [m["id"] for m in out["matters"]]
    assert (
        "heating_subsidy" in ids
        and next(m for m in out["matters"] if m["id"] == "dibao")["working_days"] == 30
    )


# --- the lifecycle table, state by state ------------------------------------------------------------


def _refused_everything_else(engine: Engine, app_id: int, allowed: set[str]) -> None:
    """Every action the lifecycle does not allow in the application's state is refused, naming the allowed
    ones, and changes nothing."""
    before = service.show(engine, application_id=app_id)
    assert set(before["allowed_actions"]) == allowed, before["status"]
    for action in [*Action, "reopen"]:
        if str(action) in allowed:
            continue
        with pytest.raises(TransitionError) as e:
            service.act(
                engine,
                application_id=app_id,
                action=str(action),
                actor="test",
                on=dt.date(2026, 11, 30),
                reason="r",
                staff="甲,乙",
                amount="100",
                now=NOW,
            )
        assert set(e.value.allowed) == allowed and e.value.status == 409
    after = service.show(engine, application_id=app_id)
    assert (after["status"], len(after["history"])) == (before["status"], len(before["history"]))


def _act(engine: Engine, app_id: int, action: str, on: str, **kw) -> dict:  # noqa: ANN003
    return service.act(
        engine,
        application_id=app_id,
        action=action,
        actor="test",
        on=dt.date.fromisoformat(on),
        now=NOW,
        **kw,
    )


def test_every_action_in_every_state_against_the_lifecycle_table(engine, world):
    lake = world

    def new(household: str, applicant: str, matter: str = "dibao", accept: bool = True) -> int:
        out = intake.submit(
            engine,
            payload=_submission(household_id=household, applicant_id_number=applicant, matter=matter),
            actor="test",
            accept=accept,
            now=NOW,
        )
        return out["application_id"]

    seen: set[tuple[str, str]] = set()

    def check(app_id: int, state: str, allowed: set[str]) -> None:
        _refused_everything_else(engine, app_id, allowed)
        seen.add((state, "dibao" if allowed != {"investigate", "withdraw", "aid"} else "emergency"))

    a = new("H100", HEAD, accept=False)
    check(a, "submitted", {"accept", "not_accept", "withdraw"})
    _act(engine, a, "accept", "2026-09-28")
    check(a, "accepted", {"investigate", "withdraw"})
    _act(engine, a, "investigate", "2026-09-29", lake_dir=lake)
    check(a, "investigating", {"notice", "refuse", "withdraw"})
    _act(engine, a, "notice", "2026-09-30")
    check(a, "notice", {"approve", "refuse", "withdraw"})
    _act(engine, a, "approve", "2026-10-08", lake_dir=lake)
    check(a, "approved", {"enrol"})
    with pytest.raises(ApplicationError) as e:  # the enrolment begins on the first of November
        _act(engine, a, "enrol", "2026-10-31")
    assert e.value.code == "enrolment_not_begun"
    _act(engine, a, "enrol", "2026-11-02")
    check(a, "enrolled", set())

    b = new("H101", _id(1), accept=False)
    with pytest.raises(ApplicationError) as e:
        _act(engine, b, "not_accept", "2026-09-28")
    assert e.value.field == "reason"  # not accepting needs its reasons
    _act(engine, b, "not_accept", "2026-09-28", reason="材料不全")
    check(b, "not_accepted", set())

    c = new("H102", _id(2))
    _act(engine, c, "investigate", "2026-09-29", staff="王芳,李强")
    out = _act(engine, c, "refuse", "2026-09-30", reason="收入超过标准")
    # the written refusal within 3 working days: 8, 9 and Saturday 10 October (worked)
    assert out["refusal_notice_due_on"] == "2026-10-10" and out["reason"] == "收入超过标准"
    check(c, "refused", {"notify_refusal"})
    _act(engine, c, "notify_refusal", "2026-10-09")
    check(c, "refused", set())

    d = new("H103", _id(3))
    _act(engine, d, "withdraw", "2026-09-29")
    check(d, "withdrawn", set())

    # emergency temporary assistance: aid first, no notice, decided straight after the investigation
    e_ = new("H105", _id(5), matter="temporary_emergency")
    check(e_, "accepted", {"investigate", "withdraw", "aid"})
    _act(engine, e_, "aid", "2026-09-28", amount="800")
    _refused_everything_else(engine, e_, {"investigate", "withdraw"})
    _act(engine, e_, "investigate", "2026-09-29")
    _refused_everything_else(engine, e_, {"approve", "refuse", "withdraw"})
    out = _act(engine, e_, "approve", "2026-09-30")
    assert out["status"] == "approved" and out["enrolment"] is None and out["allowed_actions"] == []

    # every (action, state) pair of the table was either taken above or refused
    table = {(a_.value, s.value) for a_, moves in TRANSITIONS.items() for s in moves}
    assert ("approve", "investigating") in table and ("enrol", "approved") in table
    assert {s for s, _ in seen} == {s.value for s in Status}


def test_withdraw_records_its_reason_and_the_date_order_is_kept(engine, world):
    app_id = intake.submit(engine, payload=_submission(), actor="test", now=NOW)["application_id"]
    with pytest.raises(ApplicationError) as e:
        _act(engine, app_id, "withdraw", "2026-09-27")  # before the acceptance
    assert e.value.field == "on" and "2026-09-28" in e.value.message
    with pytest.raises(ApplicationError) as e:
        service.act(
            engine, application_id=app_id, action="withdraw", actor="test", on=dt.date(2026, 12, 8), now=NOW
        )
    assert "future" in e.value.message
    with pytest.raises(ApplicationError) as e:
        _act(engine, app_id, "investigate", "2026-09-29", staff="王芳")  # one person is not an investigation
    assert e.value.field == "staff"
    out = _act(engine, app_id, "withdraw", "2026-09-29", reason="申请人自愿撤回")
    assert out["status"] == "withdrawn" and out["withdrawn_on"] == "2026-09-29"
    assert out["history"][-1]["note"] == "申请人自愿撤回"


# --- dates ------------------------------------------------------------------------------------------


def test_emergency_aid_within_24_hours_and_paperwork_in_5_working_days(engine, world):
    today = dt.datetime(2026, 9, 28, 15, 30, tzinfo=SHANGHAI)
    out = intake.submit(engine, payload=_submission(matter="temporary_emergency"), actor="test", now=today)
    # 5 working days from Monday 28 Sep: 29, 30 Sep, 8, 9 Oct and Saturday 10 Oct (an adjusted working day)
    assert out["due_on"] == "2026-10-10"
    assert out["due_at"] == "2026-09-29T15:30:00+08:00"  # 24 hours after the acceptance
    assert set(out) == {
        "application_id",
        "matter",
        "status",
        "household_id",
        "accepted_on",
        "due_on",
        "due_at",
    }
    shown = service.show(
        engine, application_id=out["application_id"], now=dt.datetime(2026, 9, 29, 16, 0, tzinfo=SHANGHAI)
    )
    assert shown["overdue"] is True  # no aid 24 hours on
    aided = service.act(
        engine,
        application_id=out["application_id"],
        action="aid",
        actor="test",
        on=dt.date(2026, 9, 29),
        amount="1500.50",
        now=dt.datetime(2026, 9, 29, 16, 0, tzinfo=SHANGHAI),
    )
    assert aided["aid"]["amount"] == "1500.50" and aided["overdue"] is False
    assert aided["history"][-1]["detail"]["late"] is True
    from safetynet.casework.store import assistance_records

    with engine.connect() as c:
        record = c.execute(
            select(assistance_records).where(assistance_records.c.id == aided["aid"]["assistance_id"])
        ).one()
    assert (record.kind, record.amount_fen, record.given_on) == (
        "temporary_assistance",
        150050,
        dt.date(2026, 9, 29),
    )


def test_a_due_date_beyond_the_calendar_is_provisional_until_the_year_is_added(engine, world):
    out = intake.submit(engine, payload=_submission(submitted_on="2026-12-07"), actor="test", now=NOW)
    # 20 working days from Monday 7 Dec 2026 run into 2027, which the calendar does not hold yet: Monday
    # to Friday stand in (1 Jan 2027 counted as a working day) and the date is marked provisional
    assert out["due_on"] == "2027-01-04"
    shown = service.show(engine, application_id=out["application_id"])
    assert shown["dates_provisional"] is True and shown["investigation_due_on"] == "2026-12-10"
    assert sweep.sweep(engine, on=dt.date(2026, 12, 7), now=NOW)["recounted"] == 0  # still unknown
    workdays.add_year(
        engine,
        year=2027,
        holidays=[(dt.date(2027, 1, 1), "元旦")],
        workdays=[],
        actor="admin",
        note="国务院办公厅关于2027年部分节假日安排的通知",
    )
    assert sweep.sweep(engine, on=dt.date(2026, 12, 7), now=NOW)["recounted"] == 1
    again = service.show(engine, application_id=out["application_id"])
    assert (again["dates_provisional"], again["due_on"], again["investigation_due_on"]) == (
        False,
        "2027-01-05",
        "2026-12-10",
    )


# --- intake -----------------------------------------------------------------------------------------


def test_one_open_application_per_household_and_matter(engine, world):
    first = intake.submit(engine, payload=_submission(), actor="test", now=NOW)
    with pytest.raises(ApplicationError) as e:
        intake.submit(
            engine,
            payload=_submission(submitted_on="2026-09-29", applicant_id_number=SPOUSE),
            actor="test",
            now=NOW,
        )
    assert e.value.status == 409 and e.value.code == "already_open"
    assert f"application {first['application_id']}" in e.value.message and e.value.field == "matter"
    # another matter for the same household is a separate application
    intake.submit(engine, payload=_submission(matter="medical_assistance"), actor="test", now=NOW)
    _act(engine, first["application_id"], "withdraw", "2026-09-29")
    again = intake.submit(engine, payload=_submission(submitted_on="2026-09-30"), actor="test", now=NOW)
    assert again["application_id"] != first["application_id"]


def test_the_store_holds_one_open_application_when_two_submissions_race(engine, world, monkeypatch):
    """Two clerks' submissions both past the check: the store's partial unique index refuses the second,
    whole (nothing of it is kept)."""
    intake.submit(engine, payload=_submission(), actor="test", now=NOW)
    monkeypatch.setattr(intake, "_open_one", lambda *_a, **_k: None)
    with pytest.raises(ApplicationError) as e:
        intake.submit(engine, payload=_submission(applicant_id_number=SPOUSE), actor="test", now=NOW)
    assert (e.value.status, e.value.code) == (409, "already_open")
    with engine.connect() as c:
        assert len(c.execute(select(applications.c.id)).all()) == 1


def test_a_new_household_is_validated_and_opened_in_the_register(engine, world):
    head, child = make_id("1985-05-05", 71, sex="F"), make_id("2015-02-02", 72, sex="M")
    payload = _submission(
        matter="temporary_emergency",
        household_id="N-2026-001",
        applicant_id_number=head,
        household={
            "region": VILLAGE,
            "registration": "urban",
            "address": "光明路88号",
            "grid": "2",
            "phone": "0632-7654321",
        },
        members=[
            {"id_number": head, "name": "刘芳", "relation": "head"},
            {
                "id_number": child[:-1] + ("0" if child[-1] != "0" else "1"),
                "name": "刘洋",
                "relation": "child",
                "sex": "F",
            },
        ],
    )
    with pytest.raises(ApplicationError) as e:
        intake.submit(engine, payload=payload, actor="test", now=NOW)
    problems = dict(e.value.problems)
    assert "check digit" in problems["members[1].id_number"] and e.value.field == "members[1].id_number"
    payload["members"][1] |= {"id_number": child, "sex": "F"}
    with pytest.raises(ApplicationError) as e:
        intake.submit(engine, payload=payload, actor="test", now=NOW)
    assert "disagrees with the id number" in dict(e.value.problems)["members[1].sex"]
    payload["members"][1].pop("sex")
    with pytest.raises(ApplicationError) as e:  # a person already in the register belongs to their household
        intake.submit(
            engine,
            payload=payload
            | {
                "members": [*payload["members"], {"id_number": SPOUSE, "name": "李秀英", "relation": "other"}]
            },
            actor="test",
            now=NOW,
        )
    assert e.value.field == "members[2].id_number" and "H100" in e.value.message
    with engine.connect() as c:
        assert (
            c.execute(
                select(registry_store.households.c.id).where(
                    registry_store.households.c.household_no == "N-2026-001"
                )
            ).first()
            is None
        )  # nothing half-written

    out = intake.submit(engine, payload=payload, actor="test", now=NOW)
    assert out["household_id"] == "N-2026-001" and out["status"] == "accepted"
    h = registry_service.get_household(
        engine, household_no="N-2026-001", unmasked=True, on=dt.date(2026, 9, 28)
    )
    assert (h.region_code, h.registration, h.grid_code) == (VILLAGE, "urban", VILLAGE + "02")
    assert {(m.name, m.relation, m.sex) for m in h.members} == {("刘芳", "head", "F"), ("刘洋", "child", "M")}
    with engine.connect() as c:
        ledger = c.execute(
            select(registry_store.registry_imports).order_by(registry_store.registry_imports.c.id.desc())
        ).first()
        audited = c.execute(
            select(audit_log.c.object_type).where(audit_log.c.object_id == "N-2026-001")
        ).scalars()
    assert ledger.source.startswith("application intake") and ledger.counts["persons"]["new"] == 2
    assert "household" in set(audited)
    shown = service.show(engine, application_id=out["application_id"])
    assert shown["applicant"] == {"name": "刘*", "id_number": head[:6] + "********" + head[-4:]}


def test_applicant_must_be_a_member_and_the_household_known(engine, world):
    with pytest.raises(ApplicationError) as e:
        intake.submit(engine, payload=_submission(applicant_id_number=_id(1)), actor="test", now=NOW)
    assert e.value.field == "applicant_id_number" and "not a member of household H100" in e.value.message
    with pytest.raises(NotFoundError):
        intake.submit(engine, payload=_submission(household_id="H999"), actor="test", now=NOW)
    with pytest.raises(NotFoundError):  # outside the caller's region: as if it were not there
        intake.submit(
            engine,
            payload=_submission(
                household_id="H900", applicant_id_number=make_id("1950-03-03", 91, prefix="370102", sex="M")
            ),
            actor="test",
            scope="370402",
            now=NOW,
        )


def _warn(engine: Engine) -> dict[str, int]:
    from safetynet.monitoring.store import warnings
    from safetynet.monitoring.warnings import finish_run, record_warnings, start_run

    h, p = registry_store.households, registry_store.persons
    with engine.connect() as c:
        ids = {r.household_no: r for r in c.execute(select(h.c.household_no, h.c.id, h.c.region_code))}
        person = c.execute(select(p.c.id).where(p.c.id_number == HEAD)).scalar_one()
    stranger = make_id("1988-08-08", 81, sex="M")
    rows = [
        {
            "rule": "income_drop",
            "id_number": HEAD,
            "person_id": person,
            "household_id": ids["H100"].id,
            "household_no": "H100",
            "region_code": VILLAGE,
            "level": "orange",
            "need": "basic_living",
            "side": "entry",
            "value": "-40%",
            "evidence": "[]",
        },
        {
            "rule": "hotline_help",
            "id_number": stranger,
            "person_id": None,
            "household_id": None,
            "household_no": None,
            "region_code": VILLAGE,
            "level": "yellow",
            "need": "basic_living",
            "side": "entry",
            "value": "1",
            "evidence": "[]",
        },
    ]
    schema = pa.schema(
        [(k, pa.int64() if k in ("person_id", "household_id") else pa.string()) for k in rows[0]]
    )
    run = start_run(engine, month="2026-08", engine_name="duckdb", catalogue_digest="d" * 64, actor="test")
    record_warnings(
        engine,
        run_id=run,
        month="2026-08",
        candidates=pa.Table.from_pylist(rows, schema=schema),
        suppression={"income_drop": 6, "hotline_help": 3},
    )
    finish_run(engine, run, seconds=1.0, counts={})
    with engine.connect() as c:
        return {r.rule: r.id for r in c.execute(select(warnings.c.rule, warnings.c.id))} | {
            "stranger": stranger
        }


def test_an_application_from_a_warning_and_its_field_check(engine, world):
    from safetynet.casework.service import dispatch_month
    from safetynet.casework.store import tasks

    warned = _warn(engine)
    dispatch_month(engine, month="2026-08", now=dt.datetime(2026, 9, 1, tzinfo=SHANGHAI))
    with engine.connect() as c:
        task = c.execute(select(tasks.c.id).where(tasks.c.warning_id == warned["income_drop"])).scalar_one()
    with pytest.raises(ApplicationError) as e:
        intake.submit(engine, payload=_submission(channel="warning"), actor="test", now=NOW)
    assert e.value.field == "warning_id"
    with pytest.raises(ApplicationError) as e:
        intake.submit(
            engine, payload=_submission(channel="warning", warning_id=999999), actor="test", now=NOW
        )
    assert e.value.field == "warning_id" and "no warning" in e.value.message
    with pytest.raises(ApplicationError) as e:  # the warning is about H100, not H101
        intake.submit(
            engine,
            payload=_submission(
                channel="warning",
                warning_id=warned["income_drop"],
                household_id="H101",
                applicant_id_number=_id(1),
            ),
            actor="test",
            now=NOW,
        )
    assert "another household" in e.value.message
    with pytest.raises(ApplicationError) as e:
        intake.submit(
            engine,
            payload=_submission(channel="warning", warning_id=warned["hotline_help"], task_id=task),
            actor="test",
            now=NOW,
        )
    assert e.value.field == "warning_id"
    out = intake.submit(
        engine,
        payload=_submission(channel="warning", warning_id=warned["income_drop"], task_id=task),
        actor="test",
        now=NOW,
    )
    shown = service.show(engine, application_id=out["application_id"])
    assert (shown["channel"], shown["warning_id"], shown["task_id"]) == (
        "warning",
        warned["income_drop"],
        task,
    )
    # a warning about someone the register did not hold: the new household lists them
    stranger = warned["stranger"]
    out = intake.submit(
        engine,
        payload=_submission(
            channel="warning",
            warning_id=warned["hotline_help"],
            household_id="N-9",
            applicant_id_number=stranger,
            household={"region": VILLAGE, "registration": "rural"},
            members=[{"id_number": stranger, "name": "赵强", "relation": "head"}],
        ),
        actor="test",
        now=NOW,
    )
    assert out["household_id"] == "N-9"


# --- the decision and the register ------------------------------------------------------------------


def test_approval_replaces_the_tier_from_the_next_month_and_needs_an_assessment(engine, world):
    lake = world
    app_id = intake.submit(
        engine, payload=_submission(household_id="H104", applicant_id_number=_id(4)), actor="test", now=NOW
    )["application_id"]
    _act(engine, app_id, "investigate", "2026-10-20", lake_dir=lake)
    _act(engine, app_id, "notice", "2026-10-21")
    out = _act(engine, app_id, "approve", "2026-11-30", lake_dir=lake)  # the last day of a month
    assert out["enrolment"] == {"tier": "dibao", "starts_on": "2026-12-01", "monthly_amount": "941.00"}
    assert _tiers(engine, "H104") == [
        ("王4", "dibao", dt.date(2026, 12, 1), None, 94100),
        ("王4", "dibao_edge", dt.date(2025, 1, 1), dt.date(2026, 12, 1), None),
    ]

    # no authorisation on record: no report, no assessment — no approval of a tier
    other = intake.submit(
        engine, payload=_submission(household_id="H101", applicant_id_number=_id(1)), actor="test", now=NOW
    )["application_id"]
    investigated = _act(engine, other, "investigate", "2026-10-20", lake_dir=lake)
    assert (
        investigated["verification"]["attached"] is False
        and "authorisation" in investigated["verification"]["reason"]
    )
    _act(engine, other, "notice", "2026-10-21")
    with pytest.raises(ApplicationError) as e:
        _act(engine, other, "approve", "2026-11-02", lake_dir=lake)
    assert e.value.code == "assessment_missing" and "verify authorise H101" in e.value.message
    assert service.show(engine, application_id=other)["status"] == "notice"
    # the family signs; the approval assesses then
    verification.authorise(
        engine,
        household_no="H101",
        signed_on=dt.date(2026, 11, 2),
        scope="income,assets",
        signer_name="王1",
        document_ref="SQ-H101",
        actor="test",
    )
    out = _act(engine, other, "approve", "2026-11-02", lake_dir=lake)
    assert out["enrolment"]["starts_on"] == "2026-12-01" and out["assessment"]["household_tier"] == "dibao"


# --- the API ----------------------------------------------------------------------------------------


def test_the_lifecycle_through_the_api_as_caseworker_and_reviewer(client_as, world):
    engine = client_as.engine
    client_as.app.state.lake_dir = world
    client_as.app.state.clock = lambda: NOW.astimezone(dt.UTC)
    caseworker = client_as("township_caseworker", TOWNSHIP)
    reviewer = client_as("township_reviewer", TOWNSHIP)
    r = caseworker.post("/api/v1/applications", json=_submission())
    assert r.status_code == 201, r.text
    app_id = r.json()["application_id"]
    assert r.json()["due_on"] == "2026-10-30"
    again = caseworker.post("/api/v1/applications", json=_submission(submitted_on="2026-09-29"))
    assert again.status_code == 409 and again.json()["code"] == "already_open" and again.json()["message_zh"]
    bad = caseworker.post("/api/v1/applications", json=_submission(applicant_id_number="370402"))
    assert bad.status_code == 422 and bad.json()["field"] == "applicant_id_number"

    url = f"/api/v1/applications/{app_id}"
    r = caseworker.post(f"{url}/actions", json={"action": "notice", "on": "2026-09-29"})
    assert r.status_code == 409 and r.json()["allowed_actions"] == ["investigate", "withdraw"]
    assert r.json()["message_zh"].startswith("申请当前状态")
    r = caseworker.post(
        f"{url}/actions", json={"action": "investigate", "on": "2026-09-29", "staff": ["王芳", "李强"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["household_id"] == "****"  # masked on the web; the page links to the household
    assert r.json()["household_link"] == "/households/H100"
    assert caseworker.post(f"{url}/actions", json={"action": "notice", "on": "2026-09-30"}).status_code == 200
    r = caseworker.post(f"{url}/actions", json={"action": "approve", "on": "2026-10-08"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"  # the decision is the reviewer's
    detail = caseworker.get(url).json()
    assert detail["allowed_actions"] == ["withdraw"]  # the caseworker's buttons: no decision
    r = reviewer.post(f"{url}/actions", json={"action": "approve", "on": "2026-10-06"})
    assert r.status_code == 409 and r.json()["code"] == "notice_running"
    r = reviewer.post(f"{url}/actions", json={"action": "approve", "on": "2026-10-08"})
    assert r.status_code == 200, r.text
    assert r.json()["enrolment"] == {"tier": "dibao", "starts_on": "2026-11-01", "monthly_amount": "1882.00"}
    assert r.json()["applicant"]["name"] == "张**"
    with engine.connect() as c:
        rows = c.execute(
            select(audit_log.c.action, audit_log.c.fields).where(
                audit_log.c.object_type == "application", audit_log.c.object_id == str(app_id)
            )
        ).all()
    assert (
        "read",
        json.dumps(
            sorted(["applicant", "household", "history", "verification", "assessment", "enrolment"]),
            ensure_ascii=False,
        ),
    ) in [tuple(x) for x in rows]
    assert sum(1 for a, _ in rows if a == "write") == 5  # submit, accept, investigate, notice, approve

    listed = caseworker.get("/api/v1/applications", params={"status": "approved"}).json()
    assert listed["total"] == 1 and listed["items"][0]["application_id"] == app_id
    assert (listed["items"][0]["applicant_name"], listed["items"][0]["household_id"]) == ("张**", "****")
    assert caseworker.get("/api/v1/applications", params={"status": "closed"}).status_code == 400
    matters = caseworker.get("/api/v1/applications/matters").json()
    assert len(matters["matters"]) == 13

    # online: it waits, submitted, in the township's intake queue until staff accept it
    online = _submission(household_id="H101", applicant_id_number=_id(1), channel="online")
    r = caseworker.post("/api/v1/applications", params={"accept": "false"}, json=online)
    assert r.status_code == 201 and (r.json()["status"], r.json()["accepted_on"], r.json()["due_on"]) == (
        "submitted",
        None,
        None,
    )
    queued = caseworker.get("/api/v1/applications", params={"status": "submitted"}).json()["items"]
    assert [i["application_id"] for i in queued] == [r.json()["application_id"]]
    r = caseworker.post(
        f"/api/v1/applications/{r.json()['application_id']}/actions",
        json={"action": "accept", "on": "2026-09-29"},
    )
    # 20 working days from Tuesday 29 Sep: 30 Sep, 8, 9, Sat 10 Oct … 30 Oct, 2 Nov
    assert (r.json()["status"], r.json()["accepted_on"], r.json()["due_on"]) == (
        "accepted",
        "2026-09-29",
        "2026-11-02",
    )


def test_region_scoping_out_of_region_is_not_found(client_as, world):
    engine = client_as.engine
    client_as.app.state.clock = lambda: NOW.astimezone(dt.UTC)
    outsider_id = make_id("1950-03-03", 91, prefix="370102", sex="M")
    theirs = intake.submit(
        engine,
        payload=_submission(household_id="H900", applicant_id_number=outsider_id),
        actor="test",
        now=NOW,
    )["application_id"]
    ours = intake.submit(engine, payload=_submission(), actor="test", now=NOW)["application_id"]
    caseworker = client_as("township_caseworker", TOWNSHIP)
    jinan = client_as("county_admin", "370102")
    assert caseworker.get(f"/api/v1/applications/{theirs}").status_code == 404
    assert caseworker.get(f"/api/v1/applications/{theirs}").json()["code"] == "not_found"
    r = caseworker.post(f"/api/v1/applications/{theirs}/actions", json={"action": "withdraw"})
    assert r.status_code == 404
    r = caseworker.post(
        "/api/v1/applications", json=_submission(household_id="H900", applicant_id_number=outsider_id)
    )
    assert r.status_code == 404
    assert [i["application_id"] for i in caseworker.get("/api/v1/applications").json()["items"]] == [ours]
    assert [i["application_id"] for i in jinan.get("/api/v1/applications").json()["items"]] == [theirs]
    assert caseworker.get("/api/v1/applications", params={"region": "370102"}).status_code == 404
    assert jinan.get(f"/api/v1/applications/{ours}").status_code == 404
    assert service.show(engine, application_id=theirs)["status"] == "accepted"  # nothing changed
    province = client_as("province_admin", "37")
    assert {i["application_id"] for i in province.get("/api/v1/applications").json()["items"]} == {
        ours,
        theirs,
    }
    with engine.connect() as c:
        denied = (
            c.execute(
                select(audit_log.c.object_id).where(
                    audit_log.c.result == "denied", audit_log.c.detail == "not_found"
                )
            )
            .scalars()
            .all()
        )
    assert f"GET /api/v1/applications/{theirs}" in denied
