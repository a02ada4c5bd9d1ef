from sqlalchemy import text

from safetynet.regions import model, service
from safetynet.regions.model import Level


def test_official_tree_has_real_codes(engine):
    shizhong = service.get_region(engine, code="370402")
    assert shizhong.name == "市中区" and shizhong.level is Level.county
    assert shizhong.path == "37/3704/370402/"
    zaozhuang = service.get_region(engine, code="3704")
    assert zaozhuang.name == "枣庄市"
    # every province of China is seeded, not only the demo one
    assert service.get_region(engine, code="11").name == "北京市"


def test_county_subtree_is_exactly_its_descendants(engine):
    expected = [r for r in model.demo_tree("37", 0) if r.code.startswith("370402")]
    got = service.subtree(engine, code="370402")
    assert {r.code for r in got} == {r.code for r in expected} | {"370402000000"}
    villages = service.subtree(engine, code="370402", level=Level.village)
    assert villages and all(r.level is Level.village for r in villages)
    assert all(r.code.startswith("370402") for r in villages)
    # a sibling county's prefix is not mistaken for a child (370402 vs 3704021…)
    assert not any(r.code.startswith("370403") for r in got)


def test_township_and_grid_levels(engine):
    township = service.subtree(engine, code="370402", level=Level.township)[0]
    under = service.subtree(engine, code=township.code[:9])
    assert under[0].code == township.code
    grids = [r for r in under if r.level is Level.grid]
    assert grids and all(len(g.code) == 14 and g.parent_code[:9] == township.code[:9] for g in grids)


def test_demo_tree_is_deterministic_and_shaped_like_real_codes():
    a, b = model.demo_tree("37", 0), model.demo_tree("37", 0)
    assert a == b
    assert model.demo_tree("37", 1) != a
    villages = [r for r in a if r.level is Level.village]
    assert all(len(v.code) == 12 for v in villages)
    assert all((int(v.code[9:]) < 200) == v.urban for v in villages)


def test_subtree_query_uses_the_path_index(engine):
    from safetynet.regions import store

    sql = str(store.subtree_query("37/3704/").compile(
        dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r) for r in c.execute(text("EXPLAIN QUERY PLAN " + sql)))
        else:
            c.execute(text("SET enable_seqscan = off"))
            plan = " ".join(r[0] for r in c.execute(text("EXPLAIN " + sql)))
    assert "ix_regions_path" in plan
