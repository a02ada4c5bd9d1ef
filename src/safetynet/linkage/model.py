"""The linkage model: Splink 5 on DuckDB, linking quarantined feed rows to registry persons.

Records on both sides are reduced to the same columns (`record`): name, its pinyin, the
surname's pinyin, birth date and year, sex, the 12-digit region and its county prefix,
the id number as given (possibly mistyped) and a phone (the household's in the register,
the caller's on a hotline row). Blocking suits Chinese names: birth date; the unbroken
head or tail of a mistyped id number; exact name within a county; surname pinyin with
village or birth year; phone. An exact name weighs by its frequency (term-frequency
adjustment): 王秀英 agreeing says less than a rare name agreeing.

Training (`train_model`) needs no labels: the registry is linked against a sample of its
own persons damaged the way feeds damage them (id missing / one digit changed / two
neighbours swapped, birth date dropped, a look-alike character in the given name, a
caller's phone); u comes from random sampling, m from expectation maximisation. The pair
prior is λ = 1 / number of persons (`predict` resets it to the current size).

Pair probabilities alone under-use what is known: a row with only name and village whose
name is unique in its village scores ~0.98, because the pair model cannot see that no
other person in the register agrees as well. `row_posteriors` turns the scored pairs of a
row into the probability that each candidate is the row's person, given all the
candidates and the chance that the person is not in the register at all (see there).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pypinyin import lazy_pinyin
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

from safetynet.files import private_dir, write_private

COLUMNS = ("unique_id", "name", "name_py", "surname_py", "birth_date", "birth_year", "sex",
           "region", "county", "id_number", "id_head", "id_tail", "phone")
SCHEMA = pa.schema([(c, pa.string()) for c in COLUMNS])
SEED = 20251
# Pairs scoring below this pair probability are not returned by `predict`: their odds are
# too small to move a row posterior (training measures the share of true matches lost here).
SCORE_FLOOR = 1e-4
# Our own entries in the saved model file (Splink's settings take no extra keys).
META_KEY = "safetynet"
# Before a model has measured it: the share of true matches that blocking or SCORE_FLOOR
# leave out, a cautious stand-in for `unscored_share`.
DEFAULT_UNSCORED_SHARE = 0.05
UNSCORED_SAMPLE = 2000  # training copies scored to measure it (bounds the cost on a large register)


def _levels(col: str, levels: list[tuple[str, str]], tf_adjusted: bool = False) -> dict:
    """Null level, the given levels, else. With `tf_adjusted`, an exact match of a rare value
    weighs more than one of a common value (term-frequency adjustment)."""
    tf = {"tf_adjustment_column": col, "tf_adjustment_weight": 1.0} if tf_adjusted else {}
    return {
        "output_column_name": col,
        "comparison_levels": [
            {"sql_condition": f'"{col}_l" IS NULL OR "{col}_r" IS NULL', "label_for_charts": "null",
             "is_null_level": True},
            *({"sql_condition": sql, "label_for_charts": label} | (tf if label == "exact" else {})
              for label, sql in levels),
            {"sql_condition": "ELSE", "label_for_charts": "else"},
        ],
    }


def comparisons() -> list[dict]:
    return [
        _levels("name", tf_adjusted=True, levels=[
            ("exact", "name_l = name_r"),  # term-frequency adjusted (see `_levels`)
            ("same pinyin", "name_py_l = name_py_r"),
            ("one character apart", "levenshtein(name_l, name_r) <= 1"),
        ]),
        _levels("birth_date", [
            ("exact", "birth_date_l = birth_date_r"),
            ("one digit apart", "damerau_levenshtein(birth_date_l, birth_date_r) <= 1"),
            ("same year", "birth_year_l = birth_year_r"),
        ]),
        _levels("region", [
            ("same village", "region_l = region_r"),
            ("same township", "substr(region_l, 1, 9) = substr(region_r, 1, 9)"),
            ("same county", "county_l = county_r"),
            ("same city", "substr(region_l, 1, 4) = substr(region_r, 1, 4)"),
        ]),
        _levels("sex", [("same", "sex_l = sex_r")]),
        _levels("id_number", [
            ("exact", "id_number_l = id_number_r"),
            ("one typo or swap", "damerau_levenshtein(id_number_l, id_number_r) <= 1"),
            ("two edits", "damerau_levenshtein(id_number_l, id_number_r) <= 2"),
        ]),
        # A household shares its phone: with the name it points at one person.
        _levels("phone", [("exact", "phone_l = phone_r")]),
    ]


def blocking_rules() -> list:
    return [
        block_on("birth_date"),
        block_on("id_head"),
        block_on("id_tail"),
        block_on("name_py", "county"),
        block_on("surname_py", "region"),
        block_on("surname_py", "birth_year"),
        block_on("phone"),
    ]


def settings(n_persons: int) -> SettingsCreator:
    return SettingsCreator(
        link_type="link_only",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        probability_two_random_records_match=1.0 / max(n_persons, 2),
        retain_intermediate_calculation_columns=False,
    )


# --- preparing records ----------------------------------------------------------------

_PY: dict[str, str] = {}


def _pinyin(text: str | None) -> str | None:
    if not text:
        return None
    out = _PY.get(text)
    if out is None:
        out = _PY[text] = "".join(lazy_pinyin(text))
    return out


def clean_id(raw: object) -> str | None:
    s = str(raw).strip().upper() if raw is not None else ""
    return s or None


def parse_date(raw: object) -> str | None:
    """YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD (as the feed contract accepts) → ISO, else None."""
    if raw is None:
        return None
    if isinstance(raw, dt.date):
        return raw.isoformat()
    s = str(raw).strip().split(" ")[0].split("T")[0]
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def clean_phone(raw: object) -> str | None:
    """Digits only, without a leading +86 / 0086 country code; None when too short to tell."""
    digits = "".join(ch for ch in str(raw) if ch.isdigit()) if raw is not None else ""
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            digits = digits[len(prefix):]
    return digits if len(digits) >= 7 else None


def sex_from_id(id_number: str | None) -> str | None:
    if id_number and len(id_number) == 18 and id_number[16].isdigit():
        return "M" if int(id_number[16]) % 2 else "F"
    return None


def record(uid: str, name: object, birth_date: object, sex: str | None, region: object,
           id_number: object, phone: object = None) -> dict:
    name = str(name).strip() if name else None
    bd = parse_date(birth_date)
    idn = clean_id(id_number)
    reg = str(region).strip() if region else None
    reg = reg if reg and reg.isdigit() else None
    return {
        "unique_id": uid, "name": name or None, "name_py": _pinyin(name),
        "surname_py": _pinyin(name[0]) if name else None,
        "birth_date": bd, "birth_year": bd[:4] if bd else None,
        "sex": sex if sex in ("M", "F") else sex_from_id(idn),
        "region": reg, "county": reg[:6] if reg and len(reg) >= 6 else None,
        "id_number": idn,
        "id_head": idn[:10] if idn and len(idn) >= 10 else None,
        "id_tail": idn[-8:] if idn and len(idn) >= 16 else None,
        "phone": clean_phone(phone),
    }


def to_table(records: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(records, schema=SCHEMA)


# --- training -------------------------------------------------------------------------

def _homophones(rows: list[dict]) -> dict[str, list[str]]:
    by_sound: dict[str, set[str]] = {}
    for r in rows:
        for ch in (r["name"] or "")[1:]:
            by_sound.setdefault(_pinyin(ch) or "", set()).add(ch)
    return {ch: sorted(chars - {ch}) for chars in by_sound.values() if len(chars) > 1 for ch in chars}


def _vary(name: str, homophones: dict[str, list[str]], rng: np.random.Generator) -> str:
    """A character of the given name written as another of the same sound (a typo by ear)."""
    for i in range(len(name) - 1, 0, -1):
        others = homophones.get(name[i])
        if others:
            return name[:i] + others[int(rng.integers(0, len(others)))] + name[i + 1:]
    return name


def _caller_phone(phone: str | None, rng: np.random.Generator) -> str | None:
    """A hotline-like phone for a training row: mostly none (most feeds carry no phone);
    else the household's, or a mobile of the caller's own that the register does not know."""
    if rng.random() >= 0.3:
        return None
    if phone and rng.random() < 0.85:
        return phone
    return "1" + "".join(str(d) for d in rng.integers(0, 10, 10))


def damaged_copies(persons: pa.Table, n: int, seed: int = SEED) -> tuple[pa.Table, list[str]]:
    """A sample of registry persons damaged as feeds damage them (training data only), and
    the unique_id of the person each copy was made from."""
    rng = np.random.default_rng(seed)
    rows = persons.to_pylist()
    pick = rng.choice(len(rows), size=min(n, len(rows)), replace=False)
    homophones = _homophones(rows)
    out, sources = [], []
    for k, i in enumerate(pick):
        p = dict(rows[int(i)])
        idn = p["id_number"] or ""
        kind = rng.choice(3, p=(0.35, 0.4, 0.25))
        if kind == 0 or len(idn) != 18:
            idn = None
        elif kind == 1:
            pos = int(rng.integers(0, 18))
            digits = [d for d in "0123456789" if d != idn[pos]]
            idn = idn[:pos] + digits[int(rng.integers(0, 9))] + idn[pos + 1:]
        else:
            pos = int(rng.integers(6, 16))
            idn = idn[:pos] + idn[pos + 1] + idn[pos] + idn[pos + 2:]
        bd = None if rng.random() < 0.2 else p["birth_date"]
        if bd and rng.random() < 0.03:  # one digit of the day mistyped
            bd = bd[:-1] + str((int(bd[-1]) + int(rng.integers(1, 9))) % 10)
        name = p["name"] or ""
        if rng.random() < 0.05 and len(name) > 1:
            name = _vary(name, homophones, rng)
        region = p["region"]
        if region and rng.random() < 0.05:  # lives elsewhere in the county, or the row has none
            other = rows[int(rng.integers(0, len(rows)))]["region"]
            region = None if rng.random() < 0.5 else region[:6] + (other or region)[6:]
        out.append(record(f"t{k}", name, bd, None, region, idn, _caller_phone(p.get("phone"), rng)))
        sources.append(p["unique_id"])
    return to_table(out), sources


@dataclass
class TrainResult:
    path: Path
    persons: int
    training_rows: int
    unscored_share: float  # of the training matches, the share not among the scored pairs


def train_model(persons: pa.Table, path: Path, *, sample: int = 5000, seed: int = SEED) -> TrainResult:
    """Estimate the model on the registry (`persons` as prepared by `record`) and save it."""
    if persons.num_rows < 2:
        raise ValueError("the register has fewer than 2 persons: nothing to train the linkage model on")
    damaged, sources = damaged_copies(persons, sample, seed)
    db = DuckDBAPI()
    left = db.register(persons, table_name="register")
    right = db.register(damaged, table_name="damaged")
    linker = Linker([left, right], settings(persons.num_rows), log_level=logging.WARNING)
    _use_register_name_frequencies(linker, db, persons)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    for rule in (block_on("birth_date"), block_on("name", "county")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, fix_probability_two_random_records_match=True, record_sample_proportion=1.0)
    private_dir(path.parent)
    model = _floor_m(linker.misc.save_model_to_json())
    unscored = _unscored_share(model, persons, damaged.slice(0, UNSCORED_SAMPLE), sources[:UNSCORED_SAMPLE])
    model[META_KEY] = {"unscored_share": unscored, "persons": persons.num_rows,
                       "training_rows": damaged.num_rows}
    tmp = path.with_suffix(".tmp")
    # 0600 like every file of the data folder (a model is trained on the register)
    write_private(tmp, json.dumps(model, ensure_ascii=False, indent=1).encode("utf-8"))
    tmp.replace(path)
    return TrainResult(path, persons.num_rows, damaged.num_rows, unscored)


def _unscored_share(model: dict, persons: pa.Table, damaged: pa.Table, sources: list[str]) -> float:
    """The share of training copies whose own person is not among their pairs at or above
    SCORE_FLOOR (missed by blocking, or scored too low): `row_posteriors` needs it, since
    the register's unscored persons together stand for that much of a true match."""
    db = DuckDBAPI()
    linker = Linker([db.register(persons, table_name="register"), db.register(damaged, table_name="damaged")],
                    json.loads(json.dumps(model)), log_level=logging.WARNING)
    _use_register_name_frequencies(linker, db, persons)
    pairs = linker.inference.predict(threshold_match_probability=SCORE_FLOOR).as_pyarrow_table()
    found = {frozenset(r.values()) for r in pairs.select(["unique_id_l", "unique_id_r"]).to_pylist()}
    hit = sum(1 for k, src in enumerate(sources) if frozenset((src, f"t{k}")) in found)
    return (len(sources) - hit + 1) / (len(sources) + 2)  # never exactly 0 on a finite sample


def _floor_m(model: dict, floor: float = 1e-3) -> dict:
    """A level never seen among the training matches would otherwise veto a match outright;
    give it a small m instead, and a u where random sampling never met it."""
    for comp in model["comparisons"]:
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            level["m_probability"] = max(level.get("m_probability") or 0.0, floor)
            level["u_probability"] = max(level.get("u_probability") or 0.0, 1e-6)
    return model


# --- scoring --------------------------------------------------------------------------

def load_model(model_path: Path) -> tuple[dict, dict]:
    """(Splink settings, our metadata) of a saved model; a model saved before the metadata
    existed gets the cautious defaults."""
    model = json.loads(Path(model_path).read_text(encoding="utf-8"))
    meta = model.pop(META_KEY, None) or {}
    meta.setdefault("unscored_share", DEFAULT_UNSCORED_SHARE)
    return model, meta


def predict(model_path: Path, persons: pa.Table, rows: pa.Table, *,
            min_probability: float = SCORE_FLOOR) -> list[dict]:
    """Scored pairs: person_uid ('p…'), row_uid, match_probability, match_weight (log2 of
    the pair's odds of being a match, λ = 1 / number of persons)."""
    model, _ = load_model(model_path)
    model["probability_two_random_records_match"] = 1.0 / max(persons.num_rows, 2)
    db = DuckDBAPI()
    left = db.register(persons, table_name="register")
    right = db.register(rows, table_name="quarantined")
    linker = Linker([left, right], model, log_level=logging.WARNING)
    _use_register_name_frequencies(linker, db, persons)
    scored = linker.inference.predict(threshold_match_probability=min_probability).as_pyarrow_table()
    out = []
    for r in scored.select(["unique_id_l", "unique_id_r", "match_probability", "match_weight"]).to_pylist():
        person, row = (r["unique_id_l"], r["unique_id_r"])
        if not person.startswith("p"):
            person, row = row, person
        out.append({"person_uid": person, "row_uid": row, "match_probability": r["match_probability"],
                    "match_weight": r["match_weight"]})
    return out


def _use_register_name_frequencies(linker: Linker, db: DuckDBAPI, persons: pa.Table) -> None:
    """Name frequencies from the register alone. Splink would count both inputs together,
    so a person's own rows awaiting linkage would make their name look common (three rows of
    a unique name: four times as frequent) and weaken exactly the rows it should link."""
    names = persons.select(["name"]).filter(pc.is_valid(persons.column("name")))
    counts = names.group_by("name").aggregate([("name", "count")])
    tf = pa.table({"name": counts.column("name"),
                   "tf_name": pc.divide(pc.cast(counts.column("name_count"), pa.float64()),
                                        float(max(names.num_rows, 1)))})
    linker.table_management.register_term_frequency_lookup(db.register(tf, table_name="tf_name_register"),
                                                           "name")


def not_in_register_odds(register_share: float, unscored_share: float) -> float:
    """The weight, in units of pair odds, of "the row's person is none of the candidates":
    (1 − π) / π for a person outside the register (π: the share of the feed's people who
    are in it) plus the unscored share (a true match that blocking or the floor missed)."""
    if not 0 < register_share <= 1:
        raise ValueError(f"register share must be in (0, 1], got {register_share}")
    return (1 - register_share) / register_share + unscored_share


def row_posteriors(pairs: list[dict], rest_odds: float) -> list[tuple[float, dict]]:
    """The probability that each candidate is the row's person, best first.

    If the row's person is one of the register's N persons with probability π (else none),
    and each pair's Bayes factor is BF, then P(person k | every pair) = BF_k / (Σ_j BF_j +
    N(1 − π)/π). Dividing by N − 1 turns each BF into the pair's odds at λ = 1/N, i.e.
    2^match_weight, and the unscored persons' share into `unscored_share`: so P_k =
    odds_k / (Σ odds_j + `rest_odds`). A lone good candidate now wins outright, two
    similar ones share the probability, and a feed whose people are seldom registered
    (small π) needs much stronger evidence.
    """
    odds = [2.0 ** min(float(p["match_weight"]), 600.0) for p in pairs]  # certain, yet a finite sum
    total = sum(odds) + rest_odds
    return sorted(((o / total, p) for o, p in zip(odds, pairs, strict=True)), key=lambda x: -x[0])
