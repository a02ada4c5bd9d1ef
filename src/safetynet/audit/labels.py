"""The audit log as a civil-affairs reader reads it: Beijing time to the second, actions, results,
object types and purposes in Chinese, and each object by what it is (a person's masked name, the
household number, a task's person) instead of its internal id. Codes stay in the answer too (for
filters and the API's users); these are added beside them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select

from safetynet import identity
from safetynet.spreadsheet import beijing

ACTION_LABELS = {"read": "查看", "unmask": "查看完整信息", "write": "修改", "export": "导出", "login": "登录",
                 "logout": "退出登录", "denied": "拒绝访问"}
RESULT_LABELS = {"ok": "成功", "denied": "拒绝", "error": "出错"}
OBJECT_TYPE_LABELS = {
    "person": "人员", "household": "家庭", "household_search": "家庭查询", "household_chain": "救助帮扶链",
    "warning": "预警", "warning_evidence": "预警依据", "warning_list": "预警列表", "task": "任务",
    "tasks": "任务", "task_list": "任务列表", "task_feedback": "任务反馈", "assistance": "帮扶记录",
    "user": "用户", "route": "接口", "application": "救助申请", "verification_report": "核对报告",
    "verification_authorisation": "核对授权", "routing_rule": "推送规则",
    "link_candidate": "疑似同一人", "enrolment": "纳入救助", "calendar_year": "工作日历",
    "assessment_run": "认定测算", "audit_log": "审计日志",
}
PURPOSE_LABELS = {
    "household detail": "查看家庭详情", "person detail": "查看人员详情", "task detail": "查看任务详情",
    "warning detail": "查看预警详情", "warning evidence rows": "查看预警依据数据",
    "household search by full id number": "按完整身份证号查询家庭", "feedback attachment": "查看反馈附件",
    "application detail": "查看申请详情", "assessment run changes": "查看认定测算变化",
    "assistance chain view": "查看救助帮扶链", "assistance chain export": "导出救助帮扶链",
}

#: the fields audit rows name most (the rest are shown as recorded)
FIELD_LABELS = {
    "id_number": "身份证号", "name": "姓名", "head_name": "户主", "head_id_number": "户主身份证号",
    "household_no": "户编号", "region": "区划", "members": "家庭人数", "tier": "救助类别",
    "registration": "户籍性质", "monthly_benefit_fen": "月救助金", "support_form": "供养方式",
    "care_level": "照料护理等级", "rule": "预警规则", "level": "预警等级", "value": "指标值",
    "evidence": "预警依据", "status": "状态", "history": "处置记录", "feedback": "反馈", "warning": "预警",
    "task": "任务", "deadline": "办理期限", "attachment": "附件", "kind": "帮扶类别", "amount_fen": "金额",
    "given_on": "帮扶日期", "at": "时间", "actor": "操作人", "action": "操作", "object": "对象",
    "fields": "涉及字段", "purpose": "事由", "result": "结果", "password": "密码", "role": "角色",
    "username": "用户名", "display_name": "显示名称", "region_code": "区划", "department": "部门",
    "active": "启用",
}


def fields_text(fields: list[str]) -> str:
    return "、".join(FIELD_LABELS.get(f, f) for f in fields)


def at_text(value: dt.datetime | str) -> str:
    """A stored time (or its ISO text) as Beijing wall-clock time, to the second."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return beijing(value).strftime("%Y-%m-%d %H:%M:%S")


def purpose_text(purpose: str | None) -> str | None:
    if purpose and purpose.startswith("export: "):
        return "导出：" + purpose[len("export: "):]
    return PURPOSE_LABELS.get(purpose, purpose) if purpose else purpose


def _ids(items: list[dict], *types: str) -> list[int]:
    return sorted({int(i["object_id"]) for i in items
                   if i["object_type"] in types and (i["object_id"] or "").isdigit()})


def object_names(conn: Connection, items: list[dict]) -> dict[tuple[str, str], str]:
    """(object type, id) → its name, for the objects of one page: a few look-ups by primary key."""
    from safetynet.casework.store import tasks
    from safetynet.monitoring.store import warnings
    from safetynet.registry.store import persons

    names: dict[tuple[str, str], str] = {}
    if ids := _ids(items, "person"):
        for pid, name in conn.execute(select(persons.c.id, persons.c.name).where(persons.c.id.in_(ids))):
            names["person", str(pid)] = identity.mask_name(name)
    if ids := _ids(items, "warning", "warning_evidence"):
        rows = conn.execute(select(warnings.c.id, persons.c.name).outerjoin(
            persons, persons.c.id == warnings.c.person_id).where(warnings.c.id.in_(ids)))
        for wid, name in rows:
            who = identity.mask_name(name) if name else "名册外人员"
            names["warning", str(wid)] = names["warning_evidence", str(wid)] = f"预警 {wid}（{who}）"
    if ids := _ids(items, "task", "task_feedback"):
        rows = conn.execute(select(tasks.c.id, persons.c.name).outerjoin(
            persons, persons.c.id == tasks.c.person_id).where(tasks.c.id.in_(ids)))
        for tid, name in rows:
            names["task", str(tid)] = f"任务 {tid}（{identity.mask_name(name) if name else '—'}）"
    return names


def labelled(conn: Connection, items: list[dict]) -> list[dict]:
    """Each row with its Chinese labels and its object's name added."""
    names = object_names(conn, items)
    for i in items:
        i["at_local"] = at_text(i["at"])
        i["action_label"] = ACTION_LABELS.get(i["action"], i["action"])
        i["result_label"] = RESULT_LABELS.get(i["result"], i["result"])
        i["object_type_label"] = OBJECT_TYPE_LABELS.get(i["object_type"], i["object_type"])
        oid = i["object_id"]
        if i["object_type"] == "household" and oid:
            i["object_label"] = f"户 {oid}"
        elif i["object_type"] == "household_chain" and oid:
            i["object_label"] = f"户 {oid} 的救助帮扶链"
        else:
            i["object_label"] = names.get((i["object_type"], oid or ""), oid)
        i["purpose_label"] = purpose_text(i["purpose"])
        i["fields_label"] = fields_text(i["fields"])
    return items
