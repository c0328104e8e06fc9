"""The engines every service makes (`tessera_shared.db.engine_options`)."""

import pytest
import sqlalchemy as sa

from tessera_launcher.launch import service_specs
from tessera_shared.db import engine_options


def test_a_failing_statement_never_shows_its_parameters(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    engine = sa.create_engine(url, **engine_options(url))
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (secret TEXT UNIQUE)"))
        connection.execute(sa.text("INSERT INTO t VALUES (:s)"), {"s": "hunter2-secret"})
    with pytest.raises(sa.exc.IntegrityError) as failed, engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO t VALUES (:s)"), {"s": "hunter2-secret"})
    assert "hunter2-secret" not in str(failed.value)
    engine.dispose()


@pytest.mark.parametrize("url", ["sqlite:///x.sqlite3", "postgresql+psycopg://u@h/d"])
def test_every_thread_the_launcher_gives_a_service_can_hold_a_connection(url):
    """A login holds its connection while it waits for its hash: a pool smaller than the
    threads would starve the requests beside a burst of logins."""
    options = engine_options(url)
    most_threads = max(spec.threads for spec in service_specs({}))
    assert options["pool_size"] + options["max_overflow"] >= most_threads + 4  # + background
