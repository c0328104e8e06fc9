"""auth-service's internal account API, for the services that show an account's email
(user-service's `GET /v0/user/me`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tessera_shared.clients.profiles import no_request
from tessera_shared.errors import SERVICE_UNAVAILABLE
from tessera_shared.internal import InternalClient


@dataclass(frozen=True)
class AccountFacts:
    id: str
    email: str
    role: str
    verified_at: str | None


class Accounts:
    """Calls on auth-service's accounts, bound once per app (as `Profiles`)."""

    def __init__(self, internal: InternalClient,
                 request_id: Callable[[], str | None] = no_request) -> None:
        self.internal = internal
        self.request_id = request_id

    def get(self, user_id: str) -> AccountFacts:
        """The account of a user who has a profile; unreachable or missing is a 503 (a
        profile without an account is the moment between a deletion and its event)."""
        answer = self.internal.call("auth", "GET", f"/internal/accounts/{user_id}",
                                    request_id=self.request_id())
        if not answer.ok:
            raise SERVICE_UNAVAILABLE("The account service could not give this user's email.")
        data = answer.data
        return AccountFacts(id=data["id"], email=data["email"], role=data["role"],
                            verified_at=data["verified_at"])
