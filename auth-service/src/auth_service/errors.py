"""Every error id auth-service answers with (the platform-wide ones are in
`tessera_shared.errors`). Raise `ID()` for the usual sentence, `ID("...")` for a more precise
one; the families map codes, never sentences."""

from __future__ import annotations

from tessera_shared.errors import ErrorId

# --- accounts --------------------------------------------------------------------------------
EMAIL_TAKEN = ErrorId("user:email_already_exists", 409, "An account with that email exists.")
HANDLE_TAKEN = ErrorId("user:handle_already_exists", 409, "That handle is taken.")
ACCOUNT_NOT_FOUND = ErrorId("user:not_found", 404, "No account has that id.")
EMAIL_NOT_VERIFIED = ErrorId("email:not_verified", 403, "Verify your email address first: "
                             "open the link we mailed you, or ask for a new one with POST "
                             "/v0/auth/resend-verification-email.")
REGISTRATION_CLOSED = ErrorId("user:registration_closed", 401,
                              "This platform does not take new sign-ups; ask its operator.")

# --- signing in and proving it again ---------------------------------------------------------
INVALID_CREDENTIALS = ErrorId("auth:invalid_credentials", 401, "The email or password is wrong.")
CODE_REQUIRED = ErrorId("totp:code_required", 401, "Two-factor authentication is on: send a "
                        "TOTP or backup code as `code`, with the password.")
INVALID_PASSWORD = ErrorId("user:invalid_password", 401, "The current password is wrong.")
PASSWORD_NOT_SET = ErrorId("user:password_not_set", 401, "This account signs in through "
                           "another provider and has no password.")
REAUTHENTICATION_REQUIRED = ErrorId("auth:reauthentication_required", 403,
                                    "Confirm it is you first: POST /v0/auth/reauthenticate.")
SESSION_ENDED = ErrorId("user:unauthorized", 401, "The session ended; sign in again.")
SESSION_NOT_FOUND = ErrorId("session:not_found", 404, "You have no session with that id.")
TOO_MANY_SIGN_UPS = ErrorId("rate_limit:exceeded", 429, "Too many accounts were made from "
                            "this address in the last hour; try again later.")
TOO_MANY_PASSWORD_CHANGES = ErrorId(
    "auth:too_many_password_changes", 429, "The password was changed several times today "
    "already; try again tomorrow, or reset it with \"Forgot password\".")

# --- the second factor ------------------------------------------------------------------------
TOTP_ALREADY_ENABLED = ErrorId("totp:already_enabled", 409,
                               "Two-factor authentication is already on; disable it first.")
TOTP_NOT_ENABLED = ErrorId("totp:not_enabled", 400, "Two-factor authentication is not on.")
# The original says "not enabled" for an enable before any setup too; the wire keeps its code.
TOTP_NOT_SET_UP = ErrorId("totp:not_enabled", 400,
                          "Call POST /v0/auth/totp/setup first, then enable with a code.")
INVALID_CODE = ErrorId("totp:invalid_code", 400, "The code is wrong or was already used.")
BACKUP_CODES_EXHAUSTED = ErrorId("totp:backup_code_exhausted", 401, "No backup codes are "
                                 "left; use a code from your authenticator app.")
TEMP_TOKEN_INVALID = ErrorId("totp:temp_token_invalid", 400, "The sign-in step expired or was "
                             "used; sign in with your password again.")

# --- passkeys (WebAuthn) -----------------------------------------------------------------------
PASSKEY_NOT_FOUND = ErrorId("passkey:not_found", 404, "You have no passkey with that id.")
PASSKEY_LIMIT = ErrorId("passkey:limit_reached", 409, "This account has the most passkeys it "
                        "may have; remove one first.")
PASSKEY_REGISTERED = ErrorId("passkey:already_registered", 409, "This authenticator holds a "
                             "passkey registered here already.")
LAST_PASSKEY = ErrorId("passkey:cannot_delete_last_credential", 400, "This passkey is the last "
                       "way to sign in to the account: set a password (\"Forgot password\" "
                       "mails a link) or link a provider first, then remove it.")
NO_PASSKEYS = ErrorId("passkey:none_registered", 400, "This account has no passkey; finish "
                      "the sign-in with a code from your authenticator app.")
TOO_MANY_CEREMONIES = ErrorId("rate_limit:exceeded", 429, "Too many passkey requests came "
                              "from this address; wait a minute, then try again.")
PASSKEY_ALREADY_USED = ErrorId("passkey:first_factor_already", 400, "A passkey began this "
                               "sign-in, so it cannot finish it too: type a code from your "
                               "authenticator app or a backup code.")
INVALID_CHALLENGE = ErrorId("passkey:invalid_challenge", 400, "This passkey request is unknown, "
                            "used, expired (it lasts 5 minutes) or was started in another "
                            "browser; ask for new options and try again.")
INVALID_ATTESTATION = ErrorId("passkey:invalid_registration", 400, "The authenticator's answer "
                              "could not be verified for this site; try again, or use another "
                              "authenticator.")
INVALID_ASSERTION = ErrorId("passkey:invalid_assertion", 401, "The passkey's answer could not be "
                            "verified; try again, or sign in another way.")
UNKNOWN_PASSKEY = ErrorId("passkey:unknown_credential", 401, "This passkey is not registered "
                          "here (it may have been removed); sign in another way.")
SIGN_COUNT_REGRESSED = ErrorId("passkey:sign_count_regressed", 401, "This passkey's counter "
                               "went backwards, a sign that it was copied: sign in another way "
                               "and remove it from your account.")

# --- mailed links and codes --------------------------------------------------------------------
ALREADY_VERIFIED = ErrorId("email:already_verified", 400,
                           "This email address is verified already.")
INVALID_VERIFICATION = ErrorId("token:invalid_verification", 400,
                               "This verification link is invalid, used or expired.")
EMAIL_MISMATCH = ErrorId("token:email_mismatch", 400,
                         "The account's email changed after this link was sent.")
INVALID_RESET = ErrorId("token:invalid_reset", 400, "This reset link is invalid, used or expired.")
INVALID_RESET_CODE = ErrorId("token:invalid_reset_code", 401, "The code, request id or userhash "
                             "is wrong, or the code was used or expired; ask for a new code.")
INVALID_EMAIL_CHANGE = ErrorId("token:invalid_email_change", 400,
                               "This confirmation link is invalid, used or expired.")
INVALID_EMAIL_CHANGE_REPORT = ErrorId("token:invalid_email_change_report", 400,
                                      "This link is invalid, used or expired.")

# --- social sign-in (Google, GitHub) --------------------------------------------------------
PROVIDER_DISABLED = ErrorId("system:not_found", 404,
                            "Sign-in with this provider is not enabled here.")
TOO_MANY_ATTEMPTS = ErrorId("rate_limit:exceeded", 429, "Too many sign-in attempts came from "
                            "this address; wait a while, then try again.")
INVALID_STATE = ErrorId("oauth:invalid_state", 400, "This sign-in attempt is unknown, used or "
                        "expired, or was started for another provider, purpose or browser; "
                        "start again.")
TOKEN_EXCHANGE_FAILED = ErrorId("oauth:token_exchange_failed", 400, "The provider refused the "
                                "authorization code; start again.")
USER_INFO_FETCH_FAILED = ErrorId("oauth:user_info_fetch_failed", 400, "The provider's answer "
                                 "about the account could not be used; start again.")
PROVIDER_UNAVAILABLE = ErrorId("oauth:provider_unavailable", 502, "The provider could not be "
                               "reached or answered with an error; try again in a moment.")
PROVIDER_EMAIL_NOT_VERIFIED = ErrorId("oauth:email_not_verified", 400, "The provider has no "
                                      "verified email address for this account; verify one "
                                      "there, then try again.")
OAUTH_EMAIL_TAKEN = ErrorId("oauth:email_already_exists", 409, "An account with this email "
                            "exists already: sign in to it with its password, then link the "
                            "provider from the account's settings.")
ALREADY_LINKED = ErrorId("oauth:account_already_linked", 409, "This provider account is linked "
                         "to an account already, or this account has one of that provider.")
CONNECTION_NOT_FOUND = ErrorId("oauth:connection_not_found", 404,
                               "No account of that provider is linked.")
LAST_CONNECTION = ErrorId("oauth:cannot_unlink_last_connection", 400, "This is the last way to "
                          "sign in to the account: set a password first (\"Forgot password\" "
                          "mails a link), then unlink.")
PENDING_SIGNUP_EXPIRED = ErrorId("user:token_expired", 401, "This sign-up is unknown or "
                                 "expired (it lasts 10 minutes); sign in with the provider "
                                 "again.")
PENDING_SIGNUP_INVALID = ErrorId("user:invalid_token", 401, "This sign-up was started in "
                                 "another browser; finish it where it began.")

# --- the user API (document 003): its sentences come with each refusal ----------------------
FIELD_MISSING = ErrorId("user_api:field_missing", 400)
FIELD_EMPTY = ErrorId("user_api:field_empty", 400)
FIELD_MALFORMED = ErrorId("user_api:field_malformed", 400)
FIELD_OUT_OF_RANGE = ErrorId("user_api:field_out_of_range", 406)
INVALID_EMAIL_FIELD = ErrorId("user_api:invalid_email", 406, "Invalid email")
RESET_ID_EXPIRED = ErrorId("user_api:token_expired", 406, "Token is expired")
RESET_ID_NOT_FOUND = ErrorId("user_api:token_not_found", 404, "Token not found")

# --- the users API ---------------------------------------------------------------------------
BASIC_CREDENTIALS_REQUIRED = ErrorId(
    "user:unauthorized", 401, "Send Authorization: Basic base64(userhash:ssid) from /api/login.")
PASSWORD_REQUIRED = ErrorId("users:register_for_a_password", 422,
                            "Missing required field: password")
# Handles are public on this platform (profiles, availability, the registry's lookups), so
# the users API says what its document says about them.
USERNAME_UNKNOWN = ErrorId("users:error_invalid_username", 403, "No user has that username.")
NO_EMAIL_SET = ErrorId("users:error_no_email_set", 200, "This user has no email address to "
                       "mail a code to (a registry keyholder); reset through the registry.")
