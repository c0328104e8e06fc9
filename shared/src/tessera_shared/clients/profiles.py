"""user-service's internal profile API, for the services that show or make profiles (auth,
registry); the sign-up saga's use of it is in `tessera_shared.signup`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tessera_shared.errors import SERVICE_UNAVAILABLE, DomainError
from tessera_shared.internal import InternalClient, InternalResponse


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


@dataclass(frozen=True)
class NewProfile:
    """A profile as a sign-up makes it."""

    id: str
    handle: str
    display_name: str
    is_verified: bool = False  # the address is proven already (a provider verified it)
    # More of the profile, as the user API's sign-up takes it.
    bio: str | None = None
    pronounce: str | None = None
    website: str | None = None


NOT_FOUND = "user:not_found"  # user-service's PROFILE_NOT_FOUND


def no_answer() -> DomainError:
    return SERVICE_UNAVAILABLE("The profile service could not answer.")


def no_request() -> str | None:
    return None


class Profiles:
    """Calls on user-service's profiles, bound once per app. `request_id` names the request
    each call is made for (its id travels on, for the logs); `image_fit` (side, WebP quality)
    is how answers that embed the profile image want it: fitted into side x side if larger."""

    def __init__(self, internal: InternalClient,
                 request_id: Callable[[], str | None] = no_request,
                 image_fit: tuple[int, int] | None = None) -> None:
        self.internal = internal
        self.request_id = request_id
        self.image_query = image_fit and urlencode(
            {"image_side": image_fit[0], "image_quality": image_fit[1]})

    def _call(self, method: str, path: str, payload: Any = None) -> InternalResponse:
        """An answer of user-service's own; a failure, or a refusal of the call itself (its
        signature), is no answer at all and never passes for one about a profile."""
        answer = self.internal.call("user", method, path, payload, request_id=self.request_id())
        if answer.status >= 500 or answer.status == 401:
            raise no_answer()
        return answer

    def _with_image(self, query: str, image: bool) -> str:
        parts = [part for part in (query, image and self.image_query) if part]
        return "?" + "&".join(parts) if parts else ""

    def get(self, user_id: str, *, image: bool = False) -> Profile | None:
        return self._found(self._call(
            "GET", f"/internal/profiles/{user_id}{self._with_image('', image)}"))

    def find(self, handle: str, *, image: bool = False) -> Profile | None:
        query = self._with_image(urlencode({"handle": handle}), image)
        return self._found(self._call("GET", f"/internal/profiles{query}"))

    def any_exist(self) -> bool:
        """Whether the platform has any user at all, of any family (every account and every
        registry keyholder has a profile)."""
        return bool(self._ensure(self._call("GET", "/internal/profiles/any")).data["any"])

    def create(self, new: NewProfile) -> None:
        """The remote step of a sign-up saga; a taken handle is refused (409)."""
        self._ensure(self._call("POST", "/internal/profiles", asdict(new)))

    def edit(self, user_id: str, changes: dict[str, Any]) -> Profile:
        """Change fields (`handle`, `display_name`, `bio`, `status`, `image`) at once."""
        path = f"/internal/profiles/{user_id}{self._with_image('', image=True)}"
        return Profile.from_answer(self._ensure(self._call("PATCH", path, changes)).data)

    def delete(self, user_id: str) -> bool:
        """Remove a profile now; False if user-service could not be reached."""
        return self._tell("DELETE", f"/internal/profiles/{user_id}")

    def mark_verified(self, user_id: str) -> bool:
        """The account's address is proven; False if user-service could not be reached."""
        return self._tell("POST", f"/internal/profiles/{user_id}/verified")

    def _tell(self, method: str, path: str) -> bool:
        """A change user-service also learns from the event stream: made now where it can
        be, so the client that made it sees it in its next read."""
        try:
            return self._call(method, path).ok
        except DomainError:
            return False

    @staticmethod
    def _found(answer: InternalResponse) -> Profile | None:
        """The profile an answer holds, None if it says there is none; any other refusal
        (a path this version of user-service does not serve, say) is no answer either."""
        if answer.status == 404 and answer.data and answer.data.get("code") == NOT_FOUND:
            return None
        if not answer.ok:
            raise no_answer()
        return Profile.from_answer(answer.data)

    @staticmethod
    def _ensure(answer: InternalResponse) -> InternalResponse:
        """A refusal from user-service, as the domain error it is."""
        if not answer.ok:
            raise DomainError(answer.data["code"], answer.status, answer.data["details"])
        return answer
