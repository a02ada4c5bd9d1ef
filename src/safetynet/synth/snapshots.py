"""Rows of the snapshot feeds for one month: every record the department holds.

Record ids are stable (prefix + record number), so the same record re-delivered next
month is recognisably the same row; an end day appearing makes it a correction.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safetynet.synth import model as m
from safetynet.synth.assets import ANTI_TYPES, ROLES, USES, VEHICLE_TYPES
from safetynet.synth.feeds import Block, constant, labels
from safetynet.synth.people import CADRE_POSTS, CADRE_RELATIONS
from safetynet.synth.records import Records, event_month, record_ids, shown_end, visible
from safetynet.synth.timeline import STAGES, World
from safetynet.synth.truth import EventChunk, id_lists

_SCHOOL_SUFFIX = ("幼儿园", "小学", "初级中学", "高级中学", "职业中等专业学校", "")
COLLEGES = ("山东大学", "中国海洋大学", "山东师范大学", "青岛大学", "济南大学", "山东理工大学",
            "曲阜师范大学", "聊城大学", "临沂大学", "山东农业大学", "潍坊学院", "烟台大学",
            "山东职业学院", "日照职业技术学院", "淄博职业学院", "济南职业学院",
            "山东商业职业技术学院", "潍坊职业学院", "威海职业学院", "菏泽医学专科学校")
_SHOP_TRADES = ("便利店", "小吃部", "五金店", "理发店", "农资店", "养殖场", "修理部", "服装店")
_INDUSTRIES = ("商贸", "建筑工程", "食品", "农业科技", "物流", "建材", "餐饮管理", "电子科技")
_BRANDS = "华泰鲁信金源宏达中兴恒利东方永盛鑫海瑞祥"
_PLATE_CHARS = np.array([ord(c) for c in "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"], np.uint32)


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _num(values: np.ndarray, width: int = 0) -> pa.Array:
    s = pc.cast(pa.array(np.asarray(values, np.int64)), pa.string())
    return pc.utf8_lpad(s, width=width, padding="0") if width else s


class SnapshotFeeds:
    def __init__(self, w: World):
        self.w = w
        geo = w.geo
        self.county_of = geo.village_county[w.people.village]
        self.county_names = pa.array(geo.county_name)
        self.county_short = pa.array([n[:-1] if len(n) > 2 else n for n in geo.county_name])

    def build(self, feed: str, k: int) -> Block:
        w = self.w
        rec = w.records[feed]
        last = int(w.last[k])
        idx = visible(rec, last)
        end = shown_end(rec.end[idx], last)
        ids = record_ids(m.FEED_BY_NAME[feed].prefix, idx + 1, 10)
        cols = getattr(self, "_" + feed)(rec, idx, end)
        events = []
        em = event_month(rec.start[idx], w.first)
        planted = (rec.event[idx] >= 0) & (em == k)
        for code in np.unique(rec.event[idx][planted]):
            sel = planted & (rec.event[idx] == code)
            events.append(EventChunk(m.EVENT_KINDS[code], rec.person[idx][sel], w.labels[k], feed,
                                     id_lists(ids.filter(pa.array(sel))),
                                     detail=self._detail(feed, rec, idx[sel])))
        return Block(rec.person[idx], cols, ids, events)

    def _detail(self, feed: str, rec: Records, idx: np.ndarray) -> pa.Array | None:
        if feed == "education":
            return labels(STAGES, rec.attrs["stage"][idx])
        return None

    def _unemployment(self, rec, idx, end):
        return {"registered_on": rec.start[idx], "ended_on": end}

    def _disability(self, rec, idx, end):
        return {
            "category": labels(m.DISABILITY_CATEGORIES, rec.attrs["cat"][idx]),
            "grade": rec.attrs["grade"][idx].astype(np.int8),
            "issued_on": rec.start[idx],
            "status": labels(("valid", "revoked"), (end != m.NO_DAY).astype(np.int64)),
        }

    def _education(self, rec, idx, end):
        stage = rec.attrs["stage"][idx].astype(np.int64)
        school = rec.attrs["school"][idx].astype(np.int64)
        local = _join(self.county_names.take(pa.array(school // 8)), pa.scalar("第"),
                      _num(school % 8 + 1), labels(_SCHOOL_SUFFIX, stage))
        college = labels(COLLEGES, school % len(COLLEGES))
        return {
            "stage": labels(STAGES, stage),
            "school": pc.if_else(pa.array(stage == 5), college, local),
            "enrolled_on": rec.start[idx],
            "left_on": end,
            "annual_fees": rec.attrs["fees"][idx],
        }

    def _vehicle(self, rec, idx, end):
        serial = (idx.astype(np.int64) * 1_234_567 + 4_321) % 34**5  # distinct, scattered
        digits = (serial[:, None] // (34 ** np.arange(4, -1, -1))[None, :]) % 34
        tail = np.ascontiguousarray(_PLATE_CHARS[digits]).view("U5").ravel()
        letter = self.w.geo.city_plate[self.county_of[rec.person[idx]]]
        return {
            "plate": _join(pa.array(letter), pa.array(tail)),
            "vehicle_type": labels(VEHICLE_TYPES, rec.attrs["vtype"][idx]),
            "registered_on": rec.start[idx],
            "deregistered_on": end,
            "price": rec.attrs["price"][idx],
        }

    def _property(self, rec, idx, end):
        county = self.w.geo.county_code[self.county_of[rec.person[idx]]]
        serial = idx.astype(np.int64) + 1
        number = _join(pa.array(county), _num(rec.attrs["township"][idx], 3), pa.scalar("001GB"),
                       _num(serial * 7 % 99_999 + 1, 5), pa.scalar("F"), _num(serial, 8))
        return {
            "property_no": number,
            "area_m2": rec.attrs["area"][idx],
            "use": labels(USES, rec.attrs["use"][idx]),
            "registered_on": rec.start[idx],
            "deregistered_on": end,
        }

    def _business(self, rec, idx, end):
        p = self.w.people
        person = rec.person[idx]
        trade = rec.attrs["trade"][idx].astype(np.int64)
        where = self.county_short.take(pa.array(self.county_of[person]))
        shop = _join(where, p.name_arrow.take(pa.array(person)),
                     labels(_SHOP_TRADES, trade % len(_SHOP_TRADES)))
        brands = pa.array(list(_BRANDS))
        company = _join(where, brands.take(pa.array(trade % len(_BRANDS))),
                        brands.take(pa.array((trade * 7 + 3) % len(_BRANDS))),
                        labels(_INDUSTRIES, trade % len(_INDUSTRIES)),
                        constant("有限公司", len(idx)))
        return {
            "entity_name": pc.if_else(pa.array(rec.attrs["shop"][idx]), shop, company),
            "role": labels(ROLES, rec.attrs["role"][idx]),
            "registered_capital": rec.attrs["capital"][idx],
            "established_on": rec.start[idx],
            "status": labels(("active", "cancelled"), (end != m.NO_DAY).astype(np.int64)),
        }

    def _anti_relapse(self, rec, idx, end):
        return {
            "type": labels(ANTI_TYPES, rec.attrs["atype"][idx]),
            "identified_on": rec.start[idx],
            "removed_on": end,
        }

    def _cadre_relatives(self, rec, idx, end):
        p = self.w.people
        cadre = pa.array(rec.attrs["cadre"][idx])
        return {
            "cadre_id_number": p.id_arrow.take(cadre),
            "cadre_name": p.name_arrow.take(cadre),
            "post": labels(CADRE_POSTS, rec.attrs["post"][idx]),
            "relation": labels(CADRE_RELATIONS, rec.attrs["relation"][idx]),
        }
