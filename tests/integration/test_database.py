"""The engines every service makes (`tessera_shared.db.engine_options`)."""

import pytest
import sqlalchemy as sa

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
