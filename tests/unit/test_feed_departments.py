"""The liaison's feed ledger filter names real departments and real feeds."""

from safetynet.auth.model import DEPARTMENTS
from safetynet.feeds.model import FEED_BY_NAME, FEEDS_BY_DEPARTMENT


def test_every_department_maps_to_known_feeds() -> None:
    assert set(FEEDS_BY_DEPARTMENT) == set(DEPARTMENTS)
    for feeds in FEEDS_BY_DEPARTMENT.values():
        assert feeds and set(feeds) <= set(FEED_BY_NAME)
