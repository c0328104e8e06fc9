"""The services' operator commands in process (`app.test_cli_runner()`), as flaskr tests its
commands; `./tessera admin` against a running platform is in tests/e2e/test_admin.py."""

from __future__ import annotations

import base64
import uuid


def test_granting_and_revoking_the_admin_role(services):
    handle = f"u{uuid.uuid4().hex[:10]}"
    user = {"email": f"{handle}@example.com", "handle": handle, "display_name": "An Admin",
            "password": "correct horse battery staple"}
    assert services.client("auth").post("/v0/users", json=user).status_code == 201
    runner = services.apps["auth"].test_cli_runner()
    granted = runner.invoke(args=["admin", "grant", user["email"]])
    assert (granted.exit_code, granted.output) == (0, f"{user['email']} is now an admin.\n")
    assert user["email"] in runner.invoke(args=["admin", "list"]).output
    assert runner.invoke(args=["admin", "revoke", user["email"]]).exit_code == 0
    assert user["email"] not in runner.invoke(args=["admin", "list"]).output


def test_a_mistake_is_explained_and_ends_with_a_failure(services):
    runner = services.apps["auth"].test_cli_runner()
    unknown = runner.invoke(args=["admin", "grant", "nobody@example.com"])
    assert (unknown.exit_code, unknown.output) == (1, "No account has the email "
                                                      "'nobody@example.com'.\n")
    assert runner.invoke(args=["admin", "promote"]).exit_code == 2


def test_registering_and_removing_an_iota(services):
    runner = services.apps["registry"].test_cli_runner()
    key = base64.b64encode(bytes(range(56))).decode()  # as long as an X448 public key
    added = runner.invoke(args=["registry", "iota", "add", key])
    assert added.exit_code == 0, added.output
    number = int(added.output.split()[1])
    assert str(number) in runner.invoke(args=["registry", "iota", "list"]).output
    assert runner.invoke(args=["registry", "iota", "remove", str(number)]).exit_code == 0
    missing = runner.invoke(args=["registry", "iota", "remove", str(number)])
    assert (missing.exit_code, missing.output) == (1, f"No iota has the number {number}.\n")


def test_a_subscription_can_be_ended_with_a_negative_number_of_days(services):
    runner = services.apps["registry"].test_cli_runner()
    ended = runner.invoke(args=["registry", "subscription", "nobody", "1", "-5"])
    assert (ended.exit_code, ended.output) == (1, "No registry user is called 'nobody'.\n")
