"""Field rules the v0 request bodies share."""

from marshmallow import validate

from auth_service.models import EMAIL_MAX_LENGTH
from auth_service.passwords import MAX_LENGTH, MIN_LENGTH
from tessera_shared.validation import HANDLE_CHARACTERS, not_blank

EMAIL = [validate.Length(max=EMAIL_MAX_LENGTH), validate.Email()]
# Display names as v0 takes them; a handle also keeps to every family's alphabet (which
# user-service checks again, whoever asks).
NAME = [validate.Length(min=3, max=20), not_blank]
HANDLE = [validate.Length(min=3, max=20), HANDLE_CHARACTERS]
# A password as typed: checked against a stored hash, or by the new-password rules in
# auth_service.passwords (which say what is wrong, as the API answers it).
PASSWORD = validate.Length(min=1, max=MAX_LENGTH)
# A password being set: the policy's length, stated in the document and said in the policy's
# words (auth_service.passwords checks it again, with the list of common ones).
NEW_PASSWORD = validate.Length(min=MIN_LENGTH, max=MAX_LENGTH,
                               error="must be {min} to {max} characters.")
# A second-factor code: its length says what it is (6 digits TOTP, 8 characters a backup code);
# two_factor answers any other length with totp:invalid_code, as the original.
CODE = validate.Length(min=1, max=64)
