"""What the investigation attaches and the decision rests on: the family's economic-condition
verification report (when its authorisation is valid on the day) and the rules' assessment of it, the
member keys of the assessment tied to the register's persons. Read before a write transaction opens;
the report is kept with the application as a document."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert

from safetynet import identity
from safetynet.applications import model
from safetynet.applications.store import application_documents
from safetynet.errors import SafetynetError
from safetynet.registry import service as registry_service


def actor_name(actor: Any) -> str:
    return actor if isinstance(actor, str) else actor.username


def _json(value: Any) -> Any:
    """A report as plain JSON (dates as ISO text, decimals as text) for the store."""

    def default(o: Any) -> Any:
        if isinstance(o, dt.date | dt.datetime):
            return o.isoformat()
        if isinstance(o, Decimal | Path):
            return str(o)
        raise TypeError(f"{type(o).__name__} is not JSON")

    return json.loads(json.dumps(value, default=default, ensure_ascii=False))


def lake_dir_of(lake_dir: Path | None) -> Path:
    if lake_dir is not None:
        return Path(lake_dir)
    from safetynet.config import get_settings

    return get_settings().data_dir / "lake"


def verify_and_assess(
    engine: Engine, *, household_no: str, on: dt.date, lake_dir: Path | None, actor: Any
) -> tuple[dict, dict | None, dict | None]:
    """(verification summary, the rules' assessment as stored, the report) of the household on `on`: the
    economic-condition verification report when the family's authorisation is valid then, and the rules'
    assessment of it. Without an authorisation the summary says why and the other two are None."""
    from safetynet.verification import model as verification_model
    from safetynet.verification import service as verification

    try:
        report = verification.report(
            engine, household_no=household_no, lake_dir=lake_dir_of(lake_dir), actor=actor_name(actor), on=on
        )
    except verification_model.NotAuthorisedError as e:
        return (
            {"attached": False, "on": on.isoformat(), "reason": e.message_en, "reason_zh": e.message_zh},
            None,
            None,
        )
    except verification_model.VerificationInputError as e:
        return (
            {"attached": False, "on": on.isoformat(), "reason": str(e), "reason_zh": "无法生成核对报告"},
            None,
            None,
        )
    report = _json(report)
    summary = {
        "attached": True,
        "on": on.isoformat(),
        "month": report["month"],
        "report_date": report["report_date"],
        "scope": report["scope"],
        "not_authorised": report["not_authorised"],
        "assess_gaps": report["assess_gaps"],
    }
    try:
        out = verification.assess(engine, report=report)
    except SafetynetError as e:
        return summary | {"assessment_error": str(e)}, None, report
    end = dt.date.fromisoformat(report["window"]["end"])
    household = registry_service.get_household(engine, household_no=household_no, unmasked=True, on=end)
    person_of = {
        (identity.mask_id_number(m.id_number), m.birth_date.isoformat()): m.person_id
        for m in household.members
    }
    members = [
        {"key": m["key"], "person_id": person_of.get((m["id_number"], str(m["birth_date"])))}
        for m in report["members"]
    ]
    return (
        summary,
        model.stored_assessment(out, as_of=end.isoformat(), month=report["month"], members=members),
        report,
    )


def attach(conn: Connection, row: Any, report: dict | None, actor: Any, now: dt.datetime) -> None:
    if report is not None:
        conn.execute(
            insert(application_documents).values(
                application_id=row.id,
                kind="verification_report",
                body=report,
                created_by=actor_name(actor),
                created_at=now,
            )
        )
