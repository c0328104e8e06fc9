"""How large a request body may be, where the gateway and a service must agree: the route
table refuses a larger one at the edge, the owning service enforces the same number."""

from __future__ import annotations

MiB = 1 << 20

REQUEST_BODY = 1 * MiB  # every route and service, unless one of these says otherwise

PROFILE_IMAGE = 4 * MiB  # v0's limits on the file itself
BANNER_IMAGE = 8 * MiB
FORM_SLACK = 64 * 1024   # multipart framing and fields on top of the file

REGISTRY_AVATAR = 2 * MiB            # the decoded image
REGISTRY_CHANGE = REGISTRY_AVATAR * 2  # its base64 and the rest of the JSON body
