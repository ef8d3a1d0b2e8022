import pytest

from settlement.tests.helpers import Ledger


@pytest.fixture
def ledger(make_database):
    """A migrated settlement database opened directly, for store-level tests."""
    db = Ledger(make_database("settlement"))
    yield db
    db.close()
