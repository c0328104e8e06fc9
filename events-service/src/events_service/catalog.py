"""Which events become action-log entries, under which action name, and who may see them.

Action names follow the original (`user:create`, `user:edit`, `auth:login`, `auth:logout`)
and extend it for everything else the platform does. Public entries are for everyone (without
the address); the others concern authentication and security and are shown only to their
actor.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    action: str
    summary: str
    public: bool = False


CATALOG: dict[str, Entry] = {
    "user.registered": Entry("user:create", "Account created", public=True),
    "user.profile_updated": Entry("user:edit", "Profile edited", public=True),
    "user.deleted": Entry("user:delete", "Account deleted", public=True),
    "user.followed": Entry("user:follow", "Followed a user", public=True),
    "user.unfollowed": Entry("user:unfollow", "Stopped following a user", public=True),
    "user.email_verified": Entry("user:verify_email", "Email address verified"),
    "user.email_changed": Entry("user:change_email", "Email address changed"),
    "auth.logged_in": Entry("auth:login", "Signed in"),
    "auth.logged_out": Entry("auth:logout", "Signed out"),
    "auth.login_failed": Entry("auth:login_failed", "Failed sign-in"),
    "auth.verification_sent": Entry("auth:verification_sent", "Verification mail sent"),
    "auth.password_reset_requested": Entry("auth:password_reset_request",
                                           "Password reset requested"),
    "auth.password_reset": Entry("auth:password_reset", "Password reset"),
    "auth.password_changed": Entry("auth:password_change", "Password changed"),
    "auth.email_change_requested": Entry("auth:email_change_request",
                                         "Email change requested"),
    "auth.email_change_reported": Entry("auth:email_change_report",
                                        "Email change undone from the old address"),
    "auth.session_revoked": Entry("auth:session_revoke", "Session ended"),
    "auth.sessions_revoked": Entry("auth:sessions_revoke", "Other sessions ended"),
    "auth.totp_enabled": Entry("auth:totp_enable", "Two-factor authentication turned on"),
    "auth.totp_disabled": Entry("auth:totp_disable", "Two-factor authentication turned off"),
    "auth.backup_codes_regenerated": Entry("auth:backup_codes_regenerate",
                                           "Backup codes replaced"),
    "auth.passkey_added": Entry("auth:passkey_add", "Passkey added"),
    "auth.passkey_used": Entry("auth:passkey_use", "Passkey used"),
    "auth.passkey_removed": Entry("auth:passkey_remove", "Passkey removed"),
    "auth.role_changed": Entry("auth:role_change", "Role changed"),
    "auth.oauth_linked": Entry("oauth:link", "Sign-in provider linked"),
    "auth.oauth_unlinked": Entry("oauth:unlink", "Sign-in provider unlinked"),
    "registry.keys_changed": Entry("registry:keys_change", "Key pair replaced"),
    "registry.iota_changed": Entry("registry:iota_change", "Moved to another Iota"),
    "registry.subscription_changed": Entry("registry:subscription_change",
                                           "Subscription changed"),
}
