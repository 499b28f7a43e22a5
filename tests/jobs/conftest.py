import pytest

from tests.jobs.sample_jobs import Effect


@pytest.fixture(autouse=True)
def effects_table(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    if "db" not in request.fixturenames and "runtime" not in request.fixturenames:
        yield
        return
    db = request.getfixturevalue("db")
    db.create_tables([Effect])
    yield
