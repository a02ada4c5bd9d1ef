"""Warnings endpoints (预警): a month's warnings and their counts, one warning with every month it
fired, and the monitor runs. Everything is scoped to the signed-in user's region subtree (a grid
worker: their grid) and masked; a department liaison sees only the warnings whose need is pushed to
their department. Reading one warning is a read of a person's record (health, disability, income
evidence): it is audited in the transaction of the read, so the answer goes out only once its audit
row has committed. Routes declare their capability: `warnings.read`, `warnings.runs`."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from safetynet import exports, identity
from safetynet.audit.service import record as audit_record
from safetynet.auth import errors
from safetynet.auth.deps import CurrentUser, now, require
from safetynet.auth.model import Role
from safetynet.errors import NotFoundError, SafetynetError
from safetynet.monitoring import views
from safetynet.monitoring.catalogue import (
    LEVEL_LABELS,
    NEED_LABELS,
    NEEDS,
    SIDES,
    Catalogue,
    catalogue_path,
    load_catalogue,
)
from safetynet.monitoring.names import value_label
from safetynet.monitoring.warnings import LEVELS, WarningInputError, check_month
from safetynet.monitoring.warnings_cli import STATUS_LABELS
from safetynet.regions.store import regions
from safetynet.registry import search
from safetynet.spreadsheet import Column

router = APIRouter(prefix="/warnings", tags=["warnings 预警"])

_PAGE = Query(1, ge=1, description="1-based page")
_PAGE_SIZE = Query(20, ge=1, le=views.MAX_PAGE_SIZE, description="rows per page (max 200)")
#: the fields a warning's detail reveals (audit rows name them, never their values)
DETAIL_FIELDS = ("rule", "level", "value", "evidence", "id_number")


@lru_cache(maxsize=4)
def _catalogue_at(path: str, mtime: float) -> Catalogue:
    return load_catalogue(Path(path))


def catalogue() -> Catalogue:
    """The catalogue in use, read again only when its file changes."""
    path = catalogue_path()
    return _catalogue_at(str(path), path.stat().st_mtime)


def rule_names() -> dict[str, dict]:
    """rule id → names and the indicator its value is of (for the value's label); empty when the
    catalogue cannot be read (warnings still list, by rule id, values as stored)."""
    try:
        return {r.id: {"name_zh": r.name_zh, "name_en": r.name_en, "indicator": r.indicator[0]}
                for r in catalogue()}
    except (SafetynetError, OSError):
        return {}


def _scope(user: CurrentUser, engine) -> views.Scope:  # noqa: ANN001
    """A liaison reads the needs the routing table in force pushes to their department."""
    from safetynet.casework.service import department_needs

    needs = department_needs(engine, user.department) if user.role == Role.department_liaison.value else None
    return views.Scope(user.region_code, needs)


def _bad(field: str, message: str, message_zh: str) -> errors.ApiError:
    return errors.invalid(field, message, message_zh)


def _check_filters(month: str | None, level: str | None, need: str | None, side: str | None) -> None:
    if month:
        try:
            check_month(month)
        except WarningInputError as e:
            raise _bad("month", str(e), "月份格式应为 YYYY-MM（如 2026-03）") from None
    if level and level not in LEVELS:
        raise _bad("level", f"level must be one of {', '.join(LEVELS)}, got {level!r}",
                   "预警等级应为 blue 蓝、yellow 黄、orange 橙、red 红 之一")
    if need and need not in NEEDS:
        raise _bad("need", f"need must be one of {', '.join(NEEDS)}, got {need!r}",
                   f"需求类别应为：{'、'.join(f'{k} {v}' for k, v in NEED_LABELS.items())}")
    if side and side not in SIDES:
        raise _bad("side", f"side must be one of {', '.join(SIDES)}, got {side!r}",
                   "类型应为 entry 新增风险 或 exit 退出核查")


def _scoped(user: CurrentUser, region: str | None, engine) -> views.Scope:  # noqa: ANN001
    try:
        return views.narrowed(_scope(user, engine), region)
    except search.InvalidQuery as e:
        raise _bad(e.field, str(e), e.message_zh) from None
    except NotFoundError:
        raise errors.out_of_region() from None


@router.get("", summary="A month's warnings in your region, most severe first 预警列表")
def list_warnings(
    request: Request,
    month: str | None = Query(None, description="YYYY-MM: warnings that fired that month (default: the "
                              "latest month with a finished monitor run; with a household filter and no "
                              "month: all of the household's warnings)"),
    rule: str | None = Query(None, max_length=64, description="rule id, e.g. income_drop"),
    level: str | None = Query(None, description="that month's level: blue, yellow, orange, red"),
    status: str | None = Query(None, max_length=16, description="e.g. new"),
    need: str | None = Query(None, description="medical, education, employment, housing, disaster, "
                             "basic_living, integrity"),
    side: str | None = Query(None, description="entry (hardship) or exit (eligibility check)"),
    region: str | None = Query(None, description="region code within yours (narrows, never widens)"),
    household_id: int | None = Query(None, description="the register's internal household id"),
    household_no: str | None = Query(None, max_length=64, description="household number as in the register"),
    page: int = _PAGE, page_size: int = _PAGE_SIZE,
    user: CurrentUser = Depends(require("warnings.read")),
) -> JSONResponse:
    """Items: warning_id, rule and its names, need, side, level and value (that month's), status, the
    month raised and months fired, masked id number and name, household (internal id, masked number),
    region code."""
    _check_filters(month, level, need, side)
    scope = _scoped(user, region, request.app.state.engine)
    one_household = household_id is not None or bool(household_no)
    with search.reading(request.app.state.engine) as conn:
        if not month and not one_household:
            month = views.latest_month(conn)
            if month is None:  # no finished run yet: nothing to list
                return JSONResponse({"items": [], "total": 0, "page": page, "page_size": page_size,
                                     "month": None})
        out = views.list_warnings(conn, scope=scope, month=month or None, catalogue=rule_names(),
                                  rule=rule, level=level, status=status, need=need, side=side,
                                  household_id=household_id, household_no=household_no, page=page,
                                  page_size=page_size)
    return JSONResponse(out)


_EXPORT_COLUMNS = [Column("预警编号", 10), Column("预警等级", 8), Column("预警规则", 30), Column("姓名", 8),
                   Column("身份证号", 22), Column("户编号", 14), Column("所在区划", 24),
                   Column("需求类别", 10), Column("预警类型", 10), Column("指标值", 14),
                   Column("首次预警月份", 12), Column("最近触发月份", 12), Column("触发月数", 8),
                   Column("处置状态", 10)]
_EXPORT_FILTERS = {"month": "月份", "rule": "预警规则", "level": "预警等级", "status": "处置状态",
                   "need": "需求类别", "side": "预警类型", "region": "区划", "household_no": "户编号"}


def _number_or_text(value: object) -> object:
    """An indicator value as a number when it is one (so a sheet can sort and sum it), else its text."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value
    return number if number == number and abs(number) != float("inf") else value


@router.get("/export.xlsx", summary="A month's warnings as Excel 导出预警列表")
def export_warnings(
    request: Request,
    month: str | None = Query(None), rule: str | None = Query(None, max_length=64),
    level: str | None = Query(None), status: str | None = Query(None, max_length=16),
    need: str | None = Query(None), side: str | None = Query(None), region: str | None = Query(None),
    household_id: int | None = Query(None), household_no: str | None = Query(None, max_length=64),
    user: CurrentUser = Depends(require("warnings.read")),
) -> Response:
    """The list with the same filters, scope and masking (every page; at most 50,000 rows, more
    answers 400), with names and labels for codes. Audited as an export."""
    _check_filters(month, level, need, side)
    scope = _scoped(user, region, request.app.state.engine)
    names = rule_names()
    args = {"scope": scope, "catalogue": names, "rule": rule, "level": level, "status": status, "need": need,
            "side": side, "household_id": household_id, "household_no": household_no}
    with search.reading(request.app.state.engine) as conn:
        if not month and household_id is None and not household_no:
            month = views.latest_month(conn)
        if month or household_id is not None or household_no:
            total = views.list_warnings(conn, month=month or None, page_size=1, **args)["total"]
            exports.check_size(total)
            items = views.list_warnings(conn, month=month or None, page_size=max(total, 1), **args)["items"]
        else:
            items = []
        codes = sorted({i["region_code"] for i in items if i["region_code"]})
        region_names = dict(conn.execute(select(regions.c.code, regions.c.name)
                                         .where(regions.c.code.in_(codes))).all()) if codes else {}
    rows = [[i["warning_id"], LEVEL_LABELS.get(i["level"], i["level"]), i["rule_name_zh"], i["name"],
             i["id_number"], i["household_no"], region_names.get(i["region_code"], i["region_code"]),
             NEED_LABELS.get(i["need"], i["need"]), SIDES.get(i["side"], i["side"]),
             _number_or_text(i["value"]), i["raised_month"], i["last_month"], i["fired_months"],
             STATUS_LABELS.get(i["status"], i["status"])] for i in items]
    used = exports.filters_text({"month": month, "rule": rule and names.get(rule, {}).get("name_zh", rule),
                                 "level": level and LEVEL_LABELS.get(level), "status": status and
                                 STATUS_LABELS.get(status, status), "need": need and NEED_LABELS.get(need),
                                 "side": side and SIDES.get(side), "region": region,
                                 "household_no": household_no}, _EXPORT_FILTERS)
    data = exports.workbook("预警列表", _EXPORT_COLUMNS, rows, user=user, filters=used, now=now(request))
    return exports.answer(request.app.state.engine, data, user=user, object_type="warning_list",
                          rows=len(rows), filename=f"预警列表-{month or '全部'}.xlsx", filters=used,
                          fields=["rule", "level", "value", "name", "id_number", "household_no", "status"])


@router.get("/summary", summary="Counts of a month's warnings in your region 预警统计")
def summary(request: Request,
            month: str | None = Query(None, description="YYYY-MM (default: the latest finished run's)"),
            region: str | None = Query(None, description="region code within yours"),
            user: CurrentUser = Depends(require("warnings.read"))) -> JSONResponse:
    """Total and counts by rule, level, need, side and status of the warnings that fired in the
    month, with the labels of levels and needs for the page's tiles."""
    _check_filters(month, None, None, None)
    scope = _scoped(user, region, request.app.state.engine)
    with search.reading(request.app.state.engine) as conn:
        month = month or views.latest_month(conn)
        if month is None:
            out = {"month": None, "total": 0, "by_rule": {}, "by_level": dict.fromkeys(LEVELS, 0),
                   "by_need": {}, "by_side": {}, "by_status": {}}
        else:
            out = views.summary(conn, scope=scope, month=month)
    names = rule_names()
    out["labels"] = {"level": LEVEL_LABELS, "need": NEED_LABELS, "side": SIDES,
                     "rule": {k: names.get(k, {"name_zh": k, "name_en": k}) for k in out["by_rule"]}}
    return JSONResponse(out)


@router.get("/runs", summary="Monitor runs: month, engine, status, time, memory, counts 监测运行记录")
def runs(request: Request, month: str | None = Query(None, description="YYYY-MM"),
         page: int = _PAGE, page_size: int = _PAGE_SIZE,
         user: CurrentUser = Depends(require("warnings.runs"))) -> JSONResponse:
    """Newest first. A reader below the province sees only the region figures of their subtree."""
    _check_filters(month, None, None, None)
    with search.reading(request.app.state.engine) as conn:
        scope = _scope(user, request.app.state.engine)
        return JSONResponse(views.list_runs(conn, scope=scope, month=month, page=page,
                                            page_size=page_size))


def _rule_entry(rule_id: str, month: str) -> dict | None:
    """The rule's catalogue entry with the parameters in force on the first day of `month` (None when
    the catalogue no longer has the rule)."""
    try:
        rule = catalogue().rule(rule_id)
    except (SafetynetError, OSError):  # a rule dropped from the catalogue, or a broken file: show the rest
        return None
    on = dt.date(int(month[:4]), int(month[5:7]), 1)
    entry = rule.as_dict(on=on)
    entry["parameters_on"] = on.isoformat()
    entry["level_labels"] = LEVEL_LABELS
    entry["need_label"] = NEED_LABELS.get(rule.need, rule.need)
    entry["side_label"] = SIDES.get(rule.side, rule.side)
    return entry


@router.get("/{warning_id}", summary="One warning with every month it fired (audited) 预警详情")
def warning(warning_id: int, request: Request,
            user: CurrentUser = Depends(require("warnings.read"))) -> JSONResponse:
    """The warning, its firings (month, level, value, evidence [{feed, record_id, month}]), the rule's
    catalogue entry with the parameters in force in its latest month, and the person and household
    (masked). Outside your region: 404, exactly as a missing one. Audited as a read of the person's
    record."""
    with request.app.state.engine.begin() as conn:
        try:
            scope = _scope(user, request.app.state.engine)
            out = views.warning_detail(conn, warning_id=warning_id, scope=scope)
        except NotFoundError:
            raise errors.out_of_region() from None
        audit_record(None, conn=conn, actor=user, action="read", object_type="warning",
                     object_id=str(warning_id), fields=list(DETAIL_FIELDS), purpose="warning detail")
    out["rule_entry"] = _rule_entry(out["rule"], out["last_month"])
    names = out["rule_entry"] or {}
    out["rule_name_zh"] = names.get("name_zh", out["rule"])
    out["rule_name_en"] = names.get("name_en", out["rule"])
    indicator = (names.get("indicator") or [None])[0]
    out["value_label"] = value_label(indicator, out["value"])
    for firing in out["firings"]:
        firing["value_label"] = value_label(indicator, firing["value"])
    # the link to the household page, for readers of the register (the register's own number)
    registered = out["household"].pop("registered_household_no")
    out["household"]["link"] = (f"/households/{quote(registered, safe='')}"
                                if registered and user.can("registry.read") else None)
    return JSONResponse(out)


def _shown(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # dates, decimals


@router.get("/{warning_id}/evidence", summary="The feed rows behind a warning (audited) 预警依据数据")
def evidence(warning_id: int, request: Request,
             user: CurrentUser = Depends(require("warnings.read"))) -> JSONResponse:
    """The department records each firing names, as delivered (latest version), for the warning's
    every month. Identity (id number, name) is always masked. The other contents — amounts, dates,
    diagnoses — are health, income and disability data: shown to holders of `registry.sensitive` and to
    the liaison of the department that delivered the feed; everyone else sees which record of which
    feed and month, with `restricted: true`. Audited, naming the columns shown."""
    from safetynet.config import get_settings
    from safetynet.feeds.model import FEED_BY_NAME, FEEDS_BY_DEPARTMENT, Kind
    from safetynet.feeds.service import records_by_id

    with request.app.state.engine.connect() as conn:
        try:
            scope = _scope(user, request.app.state.engine)
            detail = views.warning_detail(conn, warning_id=warning_id, scope=scope)
        except NotFoundError:
            raise errors.out_of_region() from None
    refs = [(e["feed"], e["record_id"], e["month"]) for f in detail["firings"] for e in f["evidence"]]
    rows = records_by_id(request.app.state.engine, refs=refs, lake_dir=get_settings().data_dir / "lake")
    own_feeds = set(FEEDS_BY_DEPARTMENT.get(user.department or "", ())) \
        if user.role == Role.department_liaison.value else set()
    items, shown_columns = [], set()
    for row in rows:
        feed = FEED_BY_NAME.get(row["feed"])
        full = user.can("registry.sensitive") or row["feed"] in own_feeds
        labels = {c.name: c.label for c in feed.all_columns} if feed else {}
        money = [f"{c.name}_fen" for c in feed.all_columns if c.kind is Kind.MONEY] if feed else []
        for m in money:
            labels[m] = labels.get(m[:-4], m) + "（分）"
        item = {"feed": row["feed"], "month": row["month"], "record_id": row.get("record_id"),
                "restricted": not full}
        if full:
            values = {k: _shown(v) for k, v in row.items() if k not in ("feed", "month", "record_id")}
            if values.get("id_number"):
                values["id_number"] = identity.mask_id_number(values["id_number"])
            if values.get("name"):
                values["name"] = identity.mask_name(values["name"])
            item |= {"values": values, "labels": labels, "money_fen": money}
            shown_columns |= set(values)
        items.append(item)
    with request.app.state.engine.begin() as conn:
        audit_record(None, conn=conn, actor=user, action="read", object_type="warning_evidence",
                     object_id=str(warning_id), fields=sorted(shown_columns) or ["record_id"],
                     purpose="warning evidence rows")
    return JSONResponse({"warning_id": warning_id, "items": items, "total": len(items)})
