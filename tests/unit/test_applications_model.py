"""Applications as pure rules (issue 17): the lifecycle table narrowed by the matter, the process dates,
money, the submission's checks, the enrolment an approval opens from the rules' assessment, and the
matter catalogue's checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from safetynet.applications import model
from safetynet.applications.catalogue import FIXED_MATTERS, PACKAGED, CatalogueError, load_catalogue
from safetynet.applications.model import Action, Facts, MatterRules, Status
from safetynet.applications.submission import SubmissionError, parse_submission
from tests.factories import make_id

TODAY = dt.date(2026, 12, 7)
DIBAO = MatterRules("dibao", needs_notice=True, enrols="dibao", aid_first=False)
EMERGENCY = MatterRules("temporary_emergency", needs_notice=False, enrols=None, aid_first=True)
EDGE = MatterRules("dibao_edge", needs_notice=False, enrols="dibao_edge", aid_first=False)


@pytest.mark.parametrize("matter", [DIBAO, EMERGENCY, EDGE], ids=lambda m: m.id)
@pytest.mark.parametrize("status", list(Status), ids=str)
def test_allowed_actions_are_the_table_narrowed_by_the_matter(matter: MatterRules, status: Status) -> None:
    allowed = set(model.allowed_actions(matter, Facts(status)))
    # never outside the table
    assert all(status in model.TRANSITIONS[a] for a in allowed)
    if status in model.OPEN:
        assert Action.withdraw in allowed  # withdrawn at any time before a decision
    else:
        assert Action.withdraw not in allowed
    assert (Action.notice in allowed) == (status is Status.investigating and matter.needs_notice)
    # a matter with a notice decides only after it
    assert (Action.approve in allowed) == (
        status is Status.notice or (status is Status.investigating and not matter.needs_notice)
    )
    assert (Action.enrol in allowed) == (status is Status.approved and matter.enrols is not None)
    assert (Action.aid in allowed) == (
        matter.aid_first and status in (Status.accepted, Status.investigating, Status.notice)
    )
    if status in (Status.not_accepted, Status.withdrawn, Status.enrolled):
        assert allowed == set()


def test_facts_recorded_once() -> None:
    assert Action.aid not in model.allowed_actions(EMERGENCY, Facts(Status.accepted, aided=True))
    assert model.allowed_actions(DIBAO, Facts(Status.refused)) == [Action.notify_refusal]
    assert model.allowed_actions(DIBAO, Facts(Status.refused, refusal_notified=True)) == []


def test_a_forbidden_action_names_the_allowed_ones_in_both_languages() -> None:
    allowed = model.allowed_actions(DIBAO, Facts(Status.accepted))
    with pytest.raises(model.TransitionError) as e:
        model.parse_action("approve", Status.accepted, allowed)
    assert e.value.status == 409 and e.value.allowed == ["investigate", "withdraw"]
    assert (
        "allowed now: investigate, withdraw" in e.value.message
        and "入户调查(investigate)" in e.value.message_zh
    )
    with pytest.raises(model.TransitionError):
        model.parse_action("delete", Status.accepted, allowed)
    assert model.parse_action("investigate", Status.accepted, allowed) is Action.investigate


def test_process_dates() -> None:
    assert model.first_of_next_month(dt.date(2026, 10, 16)) == dt.date(2026, 11, 1)
    assert model.first_of_next_month(dt.date(2026, 12, 31)) == dt.date(2027, 1, 1)
    until = model.notice_until(dt.date(2026, 10, 9), 7)
    assert until == dt.date(2026, 10, 15)
    with pytest.raises(model.ApplicationError) as e:
        model.check_decision_date(until, until)
    assert e.value.code == "notice_running" and "2026-10-16" in e.value.message
    model.check_decision_date(dt.date(2026, 10, 16), until)
    model.check_decision_date(dt.date(2026, 10, 1), None)  # no notice: nothing to wait for
    with pytest.raises(model.ApplicationError):
        model.check_action_date(dt.date(2026, 9, 1), last=dt.date(2026, 9, 2), today=TODAY)
    with pytest.raises(model.ApplicationError):
        model.check_action_date(dt.date(2026, 12, 8), last=dt.date(2026, 9, 2), today=TODAY)


def test_staff_reasons_and_amounts() -> None:
    assert model.parse_staff("王芳, 李强") == ["王芳", "李强"]
    assert model.parse_staff(None) is None
    for bad in ("王芳", "王芳,王芳", ["王芳"], ",".join(f"人{i}" for i in range(7))):
        with pytest.raises(model.ApplicationError) as e:
            model.parse_staff(bad)
        assert e.value.field == "staff"
    with pytest.raises(model.ApplicationError):
        model.parse_reason(Action.refuse, "  ")
    assert model.parse_reason(Action.withdraw, None) is None
    assert model.parse_amount("800.5") == 80050 and model.parse_amount(3000) == 300000
    for bad in ("0", "-1", "1.001", "NaN", "abc", None, "1e12"):
        with pytest.raises(model.ApplicationError):
            model.parse_amount(bad)
    assert (model.yuan(188200), model.yuan(5), model.yuan(None)) == ("1882.00", "0.05", None)
    assert model.to_fen(1323.3) == 132330 and model.to_fen("941") == 94100


# --- the submission ---------------------------------------------------------------------------------

HEAD = make_id("1985-05-05", 71, sex="F")
CHILD = make_id("2015-02-02", 72, sex="M")
MATTERS = list(FIXED_MATTERS)


def _payload(**kw) -> dict:  # noqa: ANN003
    return {
        "matter": "dibao",
        "household_id": "H1",
        "applicant_id_number": HEAD,
        "submitted_on": "2026-09-28",
        "channel": "counter",
    } | kw


def _problems(payload: object) -> dict[str, str]:
    with pytest.raises(SubmissionError) as e:
        parse_submission(payload, today=TODAY, matters=MATTERS, source="app.json")
    assert e.value.status == 422 and e.value.message.startswith("app.json: ")
    return dict(e.value.problems)


def test_a_good_submission() -> None:
    sub = parse_submission(
        _payload(applicant_id_number=" ".join([HEAD[:6], HEAD[6:]])), today=TODAY, matters=MATTERS
    )
    assert (sub.matter, sub.household_no, sub.submitted_on, sub.members) == (
        "dibao",
        "H1",
        dt.date(2026, 9, 28),
        [],
    )


def test_every_bad_field_is_named_with_what_valid_looks_like() -> None:
    p = _problems(
        _payload(
            matter="pension",
            submitted_on="2026-13-01",
            channel="phone",
            extra=1,
            applicant_id_number=HEAD[:-1] + ("0" if HEAD[-1] != "0" else "1"),
            warning_id=-3,
        )
    )
    assert "dibao" in p["matter"] and "YYYY-MM-DD" in p["submitted_on"] and "counter" in p["channel"]
    assert "unknown field" in p["extra"] and "check digit" in p["applicant_id_number"]
    assert "whole number" in p["warning_id"]
    assert set(_problems({})) == {"matter", "household_id", "applicant_id_number", "submitted_on", "channel"}
    assert "JSON object" in _problems([1, 2])["(body)"]
    assert "future" in _problems(_payload(submitted_on="2026-12-08"))["submitted_on"]
    assert "names the warning" in _problems(_payload(channel="warning"))["warning_id"]
    assert "channel warning" in _problems(_payload(warning_id=5))["channel"]
    # an identity number is never echoed whole
    assert HEAD[6:14] not in _problems(_payload(applicant_id_number=HEAD[:-1] + "Y"))["applicant_id_number"]


def test_a_new_households_members_are_checked_by_index_and_field() -> None:
    household = {"region": "370402001001", "registration": "urban"}
    wrong = CHILD[:-1] + ("0" if CHILD[-1] != "0" else "1")
    p = _problems(
        _payload(
            household=household,
            members=[
                {"id_number": HEAD, "name": "刘芳", "relation": "head"},
                {"id_number": wrong, "name": "刘洋", "relation": "son"},
                {"id_number": HEAD, "name": "", "relation": "spouse", "birth_date": "1985-05-06"},
            ],
        )
    )
    assert "check digit" in p["members[1].id_number"] and "child" in p["members[1].relation"]
    assert "1985-05-05" in p["members[2].birth_date"] and "required" in p["members[2].name"]
    p = _problems(
        _payload(
            household={"region": "3704", "registration": "city", "grid": "abc"},
            members=[{"id_number": CHILD, "name": "刘洋", "relation": "child", "sex": "F"}],
        )
    )
    assert {"household.region", "household.registration", "household.grid", "members[0].sex"} == set(p)
    p = _problems(
        _payload(household=household, members=[{"id_number": CHILD, "name": "刘洋", "relation": "child"}])
    )
    assert (
        "exactly one member is the head" in p["members"] and "one of the members" in p["applicant_id_number"]
    )
    assert "household" in _problems(
        _payload(members=[{"id_number": HEAD, "name": "刘芳", "relation": "head"}])
    )
    sub = parse_submission(
        _payload(
            household=household | {"grid": "3"},
            members=[
                {"id_number": HEAD, "name": "刘芳", "relation": "head"},
                {
                    "id_number": CHILD,
                    "name": "刘洋",
                    "relation": "child",
                    "sex": "M",
                    "birth_date": "2015-02-02",
                },
            ],
        ),
        today=TODAY,
        matters=MATTERS,
    )
    assert sub.household == {
        "region_code": "370402001001",
        "registration": "urban",
        "address": None,
        "grid_code": "37040200100103",
        "phone": None,
    }
    assert [(m["name"], m["sex"], m["birth_date"]) for m in sub.members] == [
        ("刘芳", "F", dt.date(1985, 5, 5)),
        ("刘洋", "M", dt.date(2015, 2, 2)),
    ]


# --- the enrolment an approval opens ---------------------------------------------------------------


def _assessment(persons: list[dict], explanation: list[dict], tier: str = "dibao") -> dict:
    return {"household_tier": tier, "as_of": "2026-08-31", "persons": persons, "explanation": explanation}


def test_the_households_dibao_is_shared_in_whole_fen_and_adds_up() -> None:
    persons = [{"id": f"m{i}", "tier": "dibao", "single_person_dibao": False} for i in (1, 2, 3)]
    plan = model.enrolment_plan(
        _assessment(
            persons,
            [{"rule": "dibao.household", "passed": True, "person": None, "values": {"amount": 1000.0}}],
        ),
        "dibao",
    )
    assert [p.monthly_benefit_fen for p in plan] == [33334, 33333, 33333]
    assert sum(p.monthly_benefit_fen for p in plan) == 100000


def test_extremely_poor_and_single_person_amounts_come_from_the_explanation() -> None:
    persons = [
        {"id": "m1", "tier": "dibao", "single_person_dibao": False},
        {"id": "m2", "tier": "extremely_poor", "care_level": "partial", "single_person_dibao": False},
        {"id": "m3", "tier": "dibao", "single_person_dibao": True},
    ]
    explanation = [
        {"rule": "dibao.household", "passed": True, "person": None, "values": {"amount": 941.0}},
        {"rule": "extremely_poor.benefit", "passed": True, "person": "m2", "values": {"amount": 1523.3}},
        {"rule": "dibao.single_person", "passed": True, "person": "m3", "values": {"amount": 741.0}},
    ]
    ep = model.enrolment_plan(_assessment(persons, explanation), "extremely_poor")
    assert [(p.key, p.monthly_benefit_fen, p.care_level) for p in ep] == [("m2", 152330, "partial")]
    dibao = model.enrolment_plan(_assessment(persons, explanation), "dibao")
    assert [(p.key, p.monthly_benefit_fen) for p in dibao] == [("m1", 94100), ("m3", 74100)]
    edge = model.enrolment_plan(
        _assessment([{"id": "m1", "tier": "dibao_edge"}], [], "dibao_edge"), "dibao_edge"
    )
    assert [(p.tier, p.monthly_benefit_fen) for p in edge] == [("dibao_edge", None)]
    with pytest.raises(model.ApplicationError) as e:
        model.enrolment_plan(_assessment([{"id": "m1", "tier": "none"}], [], "none"), "dibao")
    assert e.value.code == "assessment_disagrees" and "none" in e.value.message


# --- the matter catalogue ---------------------------------------------------------------------------


def test_the_packaged_catalogue() -> None:
    cat = load_catalogue(PACKAGED)
    assert cat.ids()[:13] == list(FIXED_MATTERS)
    for m in cat:
        assert (
            m.decides.source
            and m.department.source
            and m.notice.source
            and all(v.source for v in m.time_limit)
        )
    assert cat.matter("dibao").limit_on(dt.date(2026, 9, 28)).value == 20
    assert cat.matter("temporary_emergency").aid_first_hours.value == 24
    assert cat.matter("medical_assistance").department.value == "medical_insurance"
    assert cat.process_on("notice_days", dt.date(2026, 1, 1)).value == 7
    with pytest.raises(model.SafetynetError):
        cat.matter("dibao").limit_on(dt.date(2020, 1, 1))  # nothing in force before 2021-07-01
    with pytest.raises(model.SafetynetError) as e:
        cat.matter("pension")
    assert "dibao" in str(e.value)


def test_a_broken_catalogue_names_file_line_matter_and_field(tmp_path: Path) -> None:
    text = PACKAGED.read_text(encoding="utf-8")
    broken = (
        text.replace("  - id: disaster_relief", "  - id: disaster")
        .replace("enrols: dibao_edge", "enrols: dibao")
        .replace("notice: {value: true, source: *dibao_process}", "notice: {value: yes please}")
        .replace("{from: 2021-07-01, working_days: 5,", "{from: 2021-07-01, working_days: 0,")
    )
    path = tmp_path / "c.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CatalogueError) as e:
        load_catalogue(path)
    got = {(p.matter, p.field) for p in e.value.problems}
    assert ("disaster_relief", "id") in got and ("dibao_edge", "enrols") in got and ("dibao", "notice") in got
    assert ("temporary_emergency", "time_limit[0].working_days") in got
    assert all(p.file == str(path) and p.line for p in e.value.problems if p.matter != "disaster_relief")
    path.write_text(text + "\n  - id: dibao\n", encoding="utf-8")
    with pytest.raises(CatalogueError):
        load_catalogue(path)
