"""Chinese personal names as small integer codes, rendered to strings only when written.

A name is a surname code plus a given-name code. Surnames are drawn by frequency (the
national top 100 with a Shandong tilt: 王 张 李 刘 孙 高 于 姜 more common, southern
surnames rarer). Given names are one or two characters from pools that depend on sex and
birth generation (a 秀英 born in 1945, a 梓涵 born in 2015), so names look their age.
Keeping codes instead of strings makes 10 million names cost ~6 bytes each until a file
needs them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# (surname, national share in %, Shandong factor)
_SURNAMES = """
王 7.12 1.3|李 7.00 1.2|张 6.75 1.3|刘 5.38 1.2|陈 4.53 0.8|杨 3.08 1.1|黄 2.23 0.4|赵 2.29 1.1
吴 1.90 0.7|周 1.86 0.9|徐 1.45 1.2|孙 1.54 1.6|马 1.40 1.1|朱 1.26 1.0|胡 1.15 0.9|郭 1.15 1.1
何 1.03 0.7|高 1.02 1.4|林 0.97 0.6|罗 0.87 0.5|郑 0.80 0.9|梁 0.77 0.6|谢 0.71 0.5|宋 0.69 1.3
唐 0.64 0.7|许 0.63 1.0|韩 0.61 1.2|冯 0.59 1.0|邓 0.57 0.4|曹 0.56 1.1|彭 0.54 0.6|曾 0.52 0.3
肖 0.50 0.7|田 0.49 1.1|董 0.48 1.2|袁 0.47 0.8|潘 0.45 0.6|于 0.44 1.8|蒋 0.44 0.7|蔡 0.42 0.6
余 0.41 0.5|杜 0.40 1.1|叶 0.39 0.5|程 0.38 1.0|苏 0.37 1.0|魏 0.37 1.1|吕 0.36 1.2|丁 0.35 1.1
任 0.35 1.1|沈 0.34 0.7|姚 0.33 0.9|卢 0.33 0.9|姜 0.32 1.8|崔 0.31 1.4|钟 0.30 0.4|谭 0.29 0.7
陆 0.28 0.6|汪 0.28 0.6|范 0.27 1.1|金 0.27 1.0|石 0.27 1.0|廖 0.26 0.3|贾 0.26 1.1|夏 0.25 0.8
韦 0.25 0.2|付 0.25 1.0|方 0.24 0.8|白 0.24 1.0|邹 0.23 0.7|孟 0.23 1.4|熊 0.23 0.5|秦 0.22 1.0
邱 0.22 0.7|江 0.22 0.7|尹 0.21 1.1|薛 0.21 1.1|闫 0.20 1.2|段 0.20 1.0|雷 0.19 0.8|侯 0.19 1.2
龙 0.19 0.5|史 0.18 1.1|陶 0.18 0.8|黎 0.17 0.3|贺 0.17 0.9|顾 0.17 0.8|毛 0.17 0.8|郝 0.16 1.2
龚 0.16 0.4|邵 0.16 1.0|万 0.15 0.8|钱 0.15 0.8|严 0.15 0.8|覃 0.14 0.1|武 0.14 1.2|戴 0.14 0.8
莫 0.13 0.3|孔 0.13 2.0|向 0.13 0.5|汤 0.12 0.8
"""
SURNAMES: tuple[str, ...]
SURNAME_P: np.ndarray


def _load_surnames() -> tuple[tuple[str, ...], np.ndarray]:
    names, weights = [], []
    for item in _SURNAMES.replace("\n", "|").split("|"):
        if item.strip():
            name, share, factor = item.split()
            names.append(name)
            weights.append(float(share) * float(factor))
    w = np.array(weights)
    return tuple(names), w / w.sum()


SURNAMES, SURNAME_P = _load_surnames()

# Given-name character pools per generation and sex: (first characters, second characters).
# A one-character given name uses a second character.
_POOLS = {
    ("old", 1): ("德建国志福贵宝春振玉树金长兴庆立成明文永", "山林才生明华田海堂祥发和忠义胜荣江顺财喜"),
    ("old", 0): ("秀桂玉淑凤翠兰春美金素月爱香彩荣云菊巧秋", "英兰珍芳华荣梅花琴霞云莲香芝娥凤枝秀清菊"),
    ("mid", 1): ("建国志红军海永晓立卫新东文伟明俊振小宏庆", "军华民平伟强东刚明勇峰波林涛斌杰辉亮生兵"),
    ("mid", 0): ("丽红秀小海晓桂玉美春艳雪金建淑爱丹彩新亚", "红华丽艳梅燕霞玲芳英萍娟琴敏静莉云杰宁娜"),
    ("young", 1): ("浩子俊志文宇嘉鹏天明家佳晨泽博一思振鑫昊", "然轩宇杰博阳鹏辉涛磊龙超飞鑫航晨凯旭翔斌"),
    ("young", 0): ("雨思欣佳晓梦雅婷诗子一静心晨嘉美文慧亚紫", "婷怡涵琪雪萱悦欣琳颖瑶然茹璐丹倩妍晴蕾洁"),
    ("child", 1): ("梓子浩宇沐一俊皓博嘉锦铭睿奕煜宸明逸君泽", "轩辰睿宇航然泽豪阳熙铭霖晨恒哲源川诚岩尧"),
    ("child", 0): ("梓欣语雨一子诗思可若佳紫梦艺芷依沐心安书", "涵萱彤桐琪怡然汐瑶妍冉菲诺琳悦宁晴希月溪"),
}
_GENERATIONS = ("old", "mid", "young", "child")
_GEN_FROM_YEAR = (1960, 1985, 2005)  # born before 1960 old, …, from 2005 child
_SINGLE_P = (0.20, 0.25, 0.18, 0.10)  # share of one-character given names per generation
_POOL = 20
_GROUP = _POOL + _POOL * _POOL  # given names per (generation, sex) group


def _given_table() -> tuple[str, ...]:
    out: list[str] = []
    for gen in _GENERATIONS:
        for sex in (0, 1):
            first, second = _POOLS[(gen, sex)]
            assert len(first) == _POOL and len(second) == _POOL, (gen, sex)
            out.extend(second)
            out.extend(a + b for a in first for b in second)
    return tuple(out)


GIVEN_NAMES = _given_table()
_SURNAME_ARROW = pa.array(SURNAMES, pa.string())
_GIVEN_ARROW = pa.array(GIVEN_NAMES, pa.string())

# Homophone / look-alike swaps a clerk makes when typing a name by ear.
NAME_VARIANTS = (
    ("英", "瑛"), ("兰", "岚"), ("华", "桦"), ("明", "铭"), ("玉", "钰"), ("军", "君"),
    ("伟", "玮"), ("峰", "锋"), ("芳", "方"), ("静", "晶"), ("红", "虹"), ("丽", "莉"),
    ("杰", "洁"), ("辉", "晖"), ("涛", "韬"), ("婷", "亭"), ("琳", "林"), ("磊", "垒"),
)


def draw_surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(len(SURNAMES), size=n, p=SURNAME_P).astype(np.int16)


def draw_given(rng: np.random.Generator, birth_year: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Given-name codes fitting each person's birth generation and sex."""
    n = len(birth_year)
    gen = np.searchsorted(np.array(_GEN_FROM_YEAR), birth_year, side="right")
    group = gen * 2 + male.astype(np.int64)
    single = rng.random(n) < np.array(_SINGLE_P)[gen]
    a = rng.integers(0, _POOL, n)
    b = rng.integers(0, _POOL, n)
    within = np.where(single, b, _POOL + a * _POOL + b)
    return (group * _GROUP + within).astype(np.int32)


def render(surname: np.ndarray, given: np.ndarray) -> pa.Array:
    """Full names as an Arrow string array (vectorised take + join)."""
    return pc.binary_join_element_wise(
        _SURNAME_ARROW.take(pa.array(surname, pa.int32())),
        _GIVEN_ARROW.take(pa.array(given, pa.int32())),
        "",
    )


def vary(names: pa.Array) -> pa.Array:
    """Swap look-alike characters of the given name (a typo by ear); the surname is kept.
    Names without such a character come back unchanged."""
    out = names
    for src, dst in NAME_VARIANTS:
        out = pc.replace_substring_regex(out, pattern=f"^(.+?){src}", replacement=f"\\1{dst}",
                                         max_replacements=1)
    return out
