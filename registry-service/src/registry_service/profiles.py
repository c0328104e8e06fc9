"""The profile half of a registry user, which user-service owns, through its internal API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tessera_shared.errors import DomainError, service_unavailable
from tessera_shared.internal import InternalClient, InternalResponse

# Avatars as the original makes them: fitted into 450 x 450, WebP at quality 30 for free users
# and 100 for subscribers. Uploads through the registry are encoded so; images uploaded
# elsewhere (only users without a subscription can) are fitted at the free quality.
AVATAR_SIDE = 450
FREE_QUALITY, PREMIUM_QUALITY = 30, 100
_WITH_AVATAR = urlencode({"image_side": AVATAR_SIDE, "image_quality": FREE_QUALITY})


@dataclass(frozen=True)
class Profile:
    id: str
    handle: str
    display_name: str
    bio: str | None
    status: str | None
    created_at: datetime
    image: tuple[str, str] | None  # (type, base64), when asked for

    @classmethod
    def from_answer(cls, data: dict[str, Any]) -> Profile:
        image = data.get("image")
        return cls(id=data["id"], handle=data["handle"], display_name=data["display_name"],
                   bio=data["bio"], status=data["status"],
                   created_at=datetime.fromisoformat(data["created_at"]),
                   image=(image["type"], image["data"]) if image else None)


class Profiles:
    def __init__(self, internal: InternalClient, request_id: str | None = None) -> None:
        self.internal = internal
        self.request_id = request_id

    def _call(self, method: str, path: str, payload: Any = None) -> InternalResponse:
        answer = self.internal.call("user", method, path, payload, request_id=self.request_id)
        if answer.status >= 500:
            raise service_unavailable("The profile service could not answer.")
        return answer

    def get(self, user_id: str, *, image: bool = False) -> Profile | None:
        query = f"?{_WITH_AVATAR}" if image else ""
        answer = self._call("GET", f"/internal/profiles/{user_id}{query}")
        return Profile.from_answer(answer.data) if answer.ok else None

    def find(self, handle: str, *, image: bool = False) -> Profile | None:
        query = urlencode({"handle": handle}) + (f"&{_WITH_AVATAR}" if image else "")
        answer = self._call("GET", f"/internal/profiles?{query}")
        return Profile.from_answer(answer.data) if answer.ok else None

    def create(self, user_id: str, handle: str) -> None:
        """The remote step of a registry sign-up; a taken handle is refused (409)."""
        self._ensure(self._call("POST", "/internal/profiles",
                                {"id": user_id, "handle": handle, "display_name": ""}))

    def edit(self, user_id: str, changes: dict[str, Any]) -> Profile:
        """Change fields (`handle`, `display_name`, `bio`, `status`, `image`) at once."""
        return Profile.from_answer(self._ensure(
            self._call("PATCH", f"/internal/profiles/{user_id}?{_WITH_AVATAR}", changes)).data)

    def delete(self, user_id: str) -> bool:
        """Remove a profile now; False if user-service could not be reached."""
        try:
            return self._call("DELETE", f"/internal/profiles/{user_id}").ok
        except DomainError:
            return False

    @staticmethod
    def _ensure(answer: InternalResponse) -> InternalResponse:
        """A refusal from user-service, as the domain error it is."""
        if not answer.ok:
            raise DomainError(answer.data["code"], answer.status, answer.data["details"])
        return answer

