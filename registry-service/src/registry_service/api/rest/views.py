"""Registry REST (`/api/...`, Tensamin AuthServer-compatible, document 000).

Paths take a trailing slash or not; any method on `/api/get/...` is a GET (see
`any_method_reads`); secrets are checked in constant time and throttled per user and per
address. Success messages are the original's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from flask import Blueprint as FlaskBlueprint
from flask import Response, request
from flask.views import MethodView

from registry_service import errors, keyholders, omikrons
from registry_service.api.rest import schemas
from registry_service.api.rest.envelope import PRIVILEGED, body, failing_as, strings, success
from registry_service.extensions import profiles, registrations
from registry_service.keyholders import SignUp
from registry_service.models import Keyholder, db
from tessera_shared import limits
from tessera_shared.app import Blueprint, RegistryFailure
from tessera_shared.clock import utcnow
from tessera_shared.context import client_ip
from tessera_shared.errors import DomainError
from tessera_shared.ids import is_uuid
from tessera_shared.platform import platform
from tessera_shared.transactions import unit_of_work

blp = Blueprint("registry", __name__, url_prefix="/api", description="Registry (REST)")
paths = FlaskBlueprint("registry-paths", __name__, url_prefix="/api")
LOOKS_LIKE_UUID = re.compile(r"^[0-9a-fA-F-]{36}$")


def _guard() -> keyholders.Guard:
    return keyholders.Guard(platform().throttle, client_ip())


def _holder(user_id: str, error: DomainError) -> Keyholder:
    holder = keyholders.by_user_id(db.session, user_id)
    if holder is None:
        raise error
    return holder


def _owner(user_id: str, secret: str,
           proves: Callable[[keyholders.Guard, Keyholder, str], bool]) -> Keyholder:
    """The user's keyholder, once `secret` proves the caller holds it; an unknown user is
    refused just like a wrong secret."""
    holder = _holder(user_id, errors.PERMISSION_DENIED())
    if not proves(_guard(), holder, secret):
        raise errors.PERMISSION_DENIED()
    return holder


def _require_omikron() -> None:
    omikrons.authenticate(db.session, platform().throttle, request.headers.get("Authorization"),
                          client_ip())


@blp.route("/get/uuid/<username>", strict_slashes=False)
class UserIdByUsername(MethodView):
    @blp.response(200, schemas.UserIdAnswer)
    @blp.alt_response(404, schema=RegistryFailure, description="No such username")
    @failing_as("Failed to get uuid for supplied username")
    def get(self, username: str) -> Response:
        """Find a user's id by username (any Tessera handle), without regard to case."""
        if LOOKS_LIKE_UUID.match(username):
            return success(f"Got user for {username}", {"user_id": username})
        profile = profiles().find(username)
        if profile is None:
            raise errors.USER_NOT_FOUND("UUID lookup failed: UUID not found.")
        return success(f"Got uuid for {username}", {"user_id": profile.id})


@blp.route("/get/<user_id>", strict_slashes=False)
class User(MethodView):
    @blp.response(200, schemas.UserAnswer)
    @blp.alt_response(404, schema=RegistryFailure, description="User not found")
    @failing_as("Failed to retrieve user profile")
    def get(self, user_id: str) -> Response:
        """Get a user's public profile: always all nine keys."""
        profile = profiles().get(user_id, image=True) if is_uuid(user_id) else None
        if profile is None:
            raise errors.USER_NOT_FOUND()
        holder = keyholders.by_user_id(db.session, user_id)
        return success("Got user", keyholders.public_view(profile, holder, utcnow().date()))


@blp.route("/get/private-key-hash/<user_id>", strict_slashes=False)
class PrivateKeyHash(MethodView):
    @blp.doc(parameters=[schemas.OMIKRON, schemas.header("PrivateKeyHash", "the hash to check")])
    @blp.response(200, schemas.MatchesAnswer)
    @blp.alt_response(401, schema=RegistryFailure, description="Permission Denied: no "
                      "Authorization header")
    @blp.alt_response(403, schema=RegistryFailure, description="Not a registered Omikron")
    @failing_as("Failed to get private key hash")
    def get(self, user_id: str) -> Response:
        """(Omikron) Whether the `PrivateKeyHash` header matches the user's."""
        _require_omikron()
        given = request.headers.get("PrivateKeyHash")
        if not given:
            raise errors.PERMISSION_DENIED()
        holder = _holder(user_id, errors.USER_NOT_FOUND("Not found"))
        return success("Got private key hash",
                       {"matches": keyholders.key_matches(holder, given)}, PRIVILEGED)


@blp.route("/get/iota-id/<user_id>", strict_slashes=False)
class IotaId(MethodView):
    @blp.doc(parameters=[schemas.OMIKRON])
    @blp.response(200, schemas.IotaIdAnswer)
    @blp.alt_response(401, schema=RegistryFailure, description="Permission Denied: no "
                      "Authorization header")
    @blp.alt_response(403, schema=RegistryFailure, description="Not a registered Omikron")
    @failing_as("Failed to get iota id")
    def get(self, user_id: str) -> Response:
        """(Omikron) The Iota a user lives on."""
        _require_omikron()
        holder = _holder(user_id, errors.USER_NOT_FOUND("Not found"))
        return success("Got iota id", {"iota_id": holder.iota_id}, PRIVILEGED)


@blp.route("/change/<user_id>", strict_slashes=False)
class ChangeUser(MethodView):
    @blp.doc(requestBody=schemas.json_body(schemas.ProfileChange))
    @blp.response(200, schemas.ChangedAnswer)
    @blp.alt_response(403, schema=RegistryFailure, description="Permission Denied")
    @failing_as("Failed to change user", log_level=0)
    def post(self, user_id: str) -> Response:
        """Change username, display, avatar, about or status (needs `private_key_hash`);
        answers the updated profile, without secrets."""
        request.max_content_length = limits.REGISTRY_CHANGE
        values = body()
        [key_hash] = strings(values, ("private_key_hash",), errors.MISSING_VALUES())
        holder = _owner(user_id, key_hash, keyholders.Guard.key_hash)
        today = utcnow().date()
        profile = keyholders.change_profile(profiles(), holder, values, today)
        return success("Changed user", {"uuid": user_id, **keyholders.public_view(
            profile, holder, today), "iota_id": holder.iota_id})


@blp.route("/change/iota-id/<user_id>", strict_slashes=False)
class ChangeIota(MethodView):
    @blp.doc(requestBody=schemas.json_body(schemas.IotaChange))
    @blp.response(200, schemas.Done)
    @blp.alt_response(403, schema=RegistryFailure, description="Permission Denied")
    @failing_as("Failed to change iota id", log_level=0)
    def post(self, user_id: str) -> Response:
        """Move a user to another Iota; the reset token is replaced by `new_token`."""
        iota_id, reset_token, new_token = strings(
            body(), ("iota_id", "reset_token", "new_token"), errors.MISSING_VALUES())
        holder = _owner(user_id, reset_token, keyholders.Guard.token)
        with unit_of_work(db.session):
            keyholders.change_iota(db.session, holder, iota_id, new_token, client_ip())
        return success("Changed iota id")


@blp.route("/change/keys/<user_id>", strict_slashes=False)
class ChangeKeys(MethodView):
    @blp.doc(requestBody=schemas.json_body(schemas.KeysChange))
    @blp.response(200, schemas.Done)
    @blp.alt_response(403, schema=RegistryFailure, description="Permission Denied")
    @failing_as("Failed to change keys", log_level=0)
    def post(self, user_id: str) -> Response:
        """Replace a user's key pair (authorised by the reset token, which is replaced)."""
        key_hash, public_key, reset_token, new_token = strings(
            body(), ("private_key_hash", "public_key", "reset_token", "new_token"),
            errors.MISSING_VALUES())
        holder = _owner(user_id, reset_token, keyholders.Guard.token)
        with unit_of_work(db.session):
            keyholders.change_keys(db.session, holder, keyholders.KeyPair(public_key, key_hash),
                                   new_token, client_ip())
        return success("Changed keys")


@blp.route("/register/init", strict_slashes=False)
class RegisterInit(MethodView):
    @blp.response(200, schemas.UserIdAnswer)
    @blp.alt_response(429, schema=RegistryFailure, description="Too many from one address")
    @failing_as("Failed to start user registration")
    def get(self) -> Response:
        """Issue a user id to register within one hour, once."""
        user_id = keyholders.start_registration(registrations(), platform().throttle,
                                                client_ip())
        return success("Started user registration progress", {"user_id": user_id})


@blp.route("/register/complete", strict_slashes=False)
class RegisterComplete(MethodView):
    @blp.doc(requestBody=schemas.json_body(schemas.Registration))
    @blp.response(200, schemas.Done)
    @blp.alt_response(400, schema=RegistryFailure, description="Missing values or an invalid UUID")
    @blp.alt_response(409, schema=RegistryFailure, description="Username is taken")
    @failing_as("User registration failed")
    def post(self) -> Response:
        """Create the user: profile in user-service, keys and reset token here."""
        user_id, username, public_key, key_hash, iota_id, reset_token = strings(
            body(), ("uuid", "username", "public_key", "private_key_hash", "iota_id",
                     "reset_token"),
            errors.MISSING_VALUES("User creation failed due to missing values"))
        if not is_uuid(user_id):
            raise errors.INVALID_VALUE("User creation failed due to invalid UUID")
        with unit_of_work(db.session):
            keyholders.register(db.session, registrations(), profiles(), SignUp(
                registration=user_id, user_id=user_id, number=registrations().next_number(),
                username=username, public_key=public_key, private_key_hash=key_hash,
                iota_id=iota_id, reset_token=reset_token, ip=client_ip()))
        return success(f"Created User: {user_id}")


@blp.route("/delete/<user_id>", strict_slashes=False)
class DeleteUser(MethodView):
    @blp.doc(requestBody=schemas.json_body(schemas.Deletion))
    @blp.response(200, schemas.Done)
    @blp.alt_response(403, schema=RegistryFailure, description="Bad Token")
    @failing_as("User deletion failed")
    def post(self, user_id: str) -> Response:
        """Delete a user everywhere (needs the reset token)."""
        [reset_token] = strings(body(), ("reset_token",),
                                errors.MISSING_VALUES("User deletion failed due to missing values"))
        holder = _holder(user_id, errors.USER_NOT_FOUND("Operation failed: UUID not found."))
        if not _guard().token(holder, reset_token):
            raise errors.BAD_TOKEN()
        with unit_of_work(db.session):
            keyholders.delete(db.session, profiles(), holder, client_ip())
        return success(f"Deleted User: {user_id}")


@paths.route("/get", strict_slashes=False)
@paths.route("/get/<path:_rest>")
def invalid_user_path(_rest: str = "") -> Response:
    raise errors.INVALID_PATH()



def any_method_reads(app: Callable) -> Callable:
    """WSGI middleware: the original answers any method on `/api/get/...` as a GET."""
    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if (environ.get("PATH_INFO", "").startswith("/api/get/")
                and environ["REQUEST_METHOD"] in {"POST", "PUT", "PATCH", "DELETE"}):
            environ["REQUEST_METHOD"] = "GET"
        return app(environ, start_response)
    return wsgi
