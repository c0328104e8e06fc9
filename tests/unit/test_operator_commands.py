"""The operator commands' help: complete, and readable without a running platform."""

from __future__ import annotations

import pytest

from tessera_launcher import operate


@pytest.mark.parametrize(("argv", "expected"), [
    (["admin", "--help"], ["Usage: tessera admin", "grant", "revoke", "list"]),
    (["registry", "--help"], ["Usage: tessera registry", "omikron", "iota", "subscription"]),
    (["registry", "omikron", "add", "--help"], ["PUBLIC_KEY", "--location"]),
    (["registry", "subscription", "--help"], ["USER", "LEVEL", "DAYS"]),
    (["admin", "grant", "-h"], ["Usage: tessera admin grant", "EMAIL"]),
])
def test_every_command_explains_itself_without_any_configuration(argv, expected, capsys,
                                                                 monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(SystemExit) as ended:
        operate.main(argv)
    assert ended.value.code == 0
    shown = capsys.readouterr().out
    assert all(part in shown for part in expected), shown
