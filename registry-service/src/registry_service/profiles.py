"""How the registry asks for the profile half of its users, which user-service owns.

Avatars as the original makes them: fitted into 450 x 450, WebP at quality 30 for free users
and 100 for subscribers. Uploads through the registry are encoded so; images uploaded
elsewhere (only users without a subscription can) are fitted at the free quality.
"""

from __future__ import annotations

from collections.abc import Callable

from tessera_shared.clients.profiles import Profiles, no_request
from tessera_shared.internal import InternalClient

AVATAR_SIDE = 450
FREE_QUALITY, PREMIUM_QUALITY = 30, 100


def registry_profiles(internal: InternalClient,
                      request_id: Callable[[], str | None] = no_request) -> Profiles:
    """user-service's profiles, with avatars fitted as the registry's answers embed them."""
    return Profiles(internal, request_id, image_fit=(AVATAR_SIDE, FREE_QUALITY))
