"""Throttling of credential checks, shared by every node through Redis (docs/throttling.md).

Each rule counts failures per subject (an account, an address) within a window. The first
`free` failures cost nothing; after that, each further attempt must wait a delay that doubles
with every failure, up to `max_delay`. The caller answers a refused attempt exactly like a
wrong secret, so throttling tells an attacker nothing they could not already see.

Three things keep a guesser from turning this against the owner:

* **Check and count are one step** (a Lua script): an attempt that may go ahead is counted
  before its secret is compared, so a parallel burst gets `free` checks, not more; and an
  attempt refused for being too early is not counted at all, so it neither adds to the count
  nor pushes the delay further. A success takes its own count back.
* **A known device has a bucket of its own.** Once a device (the browser's
  `anonymous_user_id` cookie, else its address) has proven a credential, its later attempts
  are counted for that device alone, not against the whole account or the address, so
  failures elsewhere cannot lock it out.
* **Each credential kind has its own rules** (passwords, TOTP codes, mailed reset codes,
  registry secrets), so failing one never locks another.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis as redis_py

from tessera_shared.ids import is_uuid

DAY = 24 * 3600


@dataclass(frozen=True)
class Rule:
    scope: str             # e.g. "password:account"
    free: int              # failures allowed before any delay
    base_delay: float      # seconds, doubled with each further failure
    max_delay: float
    window: int            # seconds a failure is remembered
    cleared_by_success: bool = True  # False: a success only takes its own attempt back

    def key(self, subject: str) -> str:
        return f"throttle:{self.scope}:{subject}"


@dataclass(frozen=True)
class Credential:
    """A kind of secret an account proves, and its rules: attempts from a device that never
    proved it count against the account and the address; a known device has its own bucket."""

    name: str
    per_account: Rule
    per_ip: Rule
    per_known_device: Rule
    remembered: int = 30 * DAY  # how long a device stays known after its last success


def _rules(name: str, *, free: int, account_max: float) -> Credential:
    return Credential(
        name,
        per_account=Rule(f"{name}:account", free=free, base_delay=1, max_delay=account_max,
                         window=3600),
        # generous (shared NATs, offices), but bounds one machine's guessing rate
        per_ip=Rule(f"{name}:ip", free=30, base_delay=1, max_delay=300, window=3600,
                    cleared_by_success=False),
        per_known_device=Rule(f"{name}:device", free=5, base_delay=1, max_delay=300,
                              window=3600))


# A few typos are free; a guesser soon waits minutes between tries.
PASSWORD = _rules("password", free=5, account_max=900)
# Short codes: a million six-digit codes would fall to an unthrottled guesser within a day.
TOTP_CODE = _rules("code", free=5, account_max=900)
RESET_CODE = _rules("reset_code", free=5, account_max=900)
# Passkey assertions: a forged one cannot be guessed, but each costs a signature check, and a
# passkey that keeps failing (a cloned one, say) should slow down like a password.
PASSKEY = _rules("passkey", free=5, account_max=900)
# The registry's secrets (private-key hashes, reset tokens) are long and random; this stops
# guessing and bounds what a stolen-but-wrong secret can try.
REGISTRY_SECRET = _rules("secret", free=5, account_max=900)

# Rate limits of actions rather than checks of secrets (`Throttle.take`):
# mails one can make Tessera send to an account (reset, verification, email change): a few
# an hour, then a growing delay, so nobody can flood someone's mailbox through us;
MAIL_PER_ACCOUNT = Rule("mail:account", free=3, base_delay=60, max_delay=3600, window=3600)
# and the mails one address may ask for, whoever they go to (a reset link or code needs no
# sign-in, so without this one machine could spend every account's budget above);
MAIL_REQUESTS_PER_IP = Rule("mail_request:ip", free=30, base_delay=10, max_delay=3600,
                            window=3600)
# follows and unfollows one account makes (each is a public entry of the action log);
FOLLOW_CHANGES_PER_ACCOUNT = Rule("follow:account", free=100, base_delay=1, max_delay=300,
                                  window=3600)
# password changes of one account (each retires the reset links sent before it);
PASSWORD_CHANGES_PER_ACCOUNT = Rule("password_change:account", free=3, base_delay=DAY,
                                    max_delay=DAY, window=DAY)
# registration ids one address may open (each waits an hour in Redis);
REGISTRATIONS_PER_IP = Rule("registration:ip", free=100, base_delay=10, max_delay=3600,
                            window=3600)
# accounts one address may make (each hashes a password and queues a mail to an address of
# the sender's choosing): `SIGN_UPS_PER_ADDRESS` an hour, then one more a minute, doubling;
def sign_ups_per_ip(per_hour: int) -> Rule:
    return Rule("sign_up:ip", free=per_hour, base_delay=60, max_delay=3600, window=3600)


# social sign-in attempts one address may start (each state waits five minutes in Redis);
OAUTH_ATTEMPTS_PER_IP = Rule("oauth_attempt:ip", free=100, base_delay=10, max_delay=3600,
                             window=3600)
# passkey ceremonies one address may start (each challenge waits five minutes in Redis; the
# sign-in page starts one each time it opens, for the browser's autofill);
PASSKEY_CEREMONIES_PER_IP = Rule("passkey_ceremony:ip", free=300, base_delay=1, max_delay=60,
                                 window=3600)
# and tries one address makes at emailed tokens (256 bits: only floods are worth stopping) or
# at Omikron ids.
TOKEN_PER_IP = Rule("token:ip", free=20, base_delay=1, max_delay=300, window=3600,
                    cleared_by_success=False)
OMIKRON_ID_PER_IP = Rule("omikron_id:ip", free=30, base_delay=1, max_delay=300, window=3600,
                         cleared_by_success=False)
# and the users API's ssids (session tokens) one address tries: generous, since a client
# that keeps polling with an ssid that ended fails every time, and a refusal looks like an
# ended ssid to the other clients behind that address. Not per account: the userhash that
# names the account is public, so anyone could sign its owner out of every client.
SSID_PER_IP = Rule("ssid:ip", free=100, base_delay=1, max_delay=300, window=3600,
                   cleared_by_success=False)

# Every rule's subject may go ahead now (its failures so far allow it), or nothing is counted;
# if all may, each is counted once. KEYS: the rules' keys; ARGV: now, then for each key its
# free, base delay, max delay and window.
_ATTEMPT = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local stored = redis.call('HMGET', key, 'failures', 'last')
  local failures = tonumber(stored[1] or '0')
  local free = tonumber(ARGV[i * 4 - 2])
  if failures >= free then
    local delay = math.min(tonumber(ARGV[i * 4 - 1]) * 2 ^ (failures - free),
                           tonumber(ARGV[i * 4]))
    if now - tonumber(stored[2] or '0') < delay then
      return 0
    end
  end
end
for i, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'failures', 1)
  redis.call('HSET', key, 'last', ARGV[1])
  redis.call('EXPIRE', key, tonumber(ARGV[i * 4 + 1]))
end
return 1
"""

# One attempt's count taken back, where the count still exists (it may have expired since).
_TAKE_BACK = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('HGET', key, 'failures') or '0') > 0 then
    redis.call('HINCRBY', key, 'failures', -1)
  end
end
"""

Checks = tuple[tuple[Rule, str], ...]


class Throttle:
    def __init__(self, redis: redis_py.Redis) -> None:
        self.redis = redis
        self._attempt = redis.register_script(_ATTEMPT)
        self._take_back = redis.register_script(_TAKE_BACK)

    def attempt(self, *checks: tuple[Rule, str]) -> bool:
        """Whether a check of a secret may happen now; if so it is counted, as a failure
        until `succeeded` takes it back. A refused attempt is not counted."""
        arguments: list[float] = [time.time()]
        for rule, _subject in checks:
            arguments += [rule.free, rule.base_delay, rule.max_delay, rule.window]
        return bool(self._attempt(keys=[rule.key(subject) for rule, subject in checks],
                                  args=arguments))

    def succeeded(self, *checks: tuple[Rule, str]) -> None:
        """The secret was right: forget the failures where a success clears them, and take
        this attempt's count back elsewhere."""
        cleared = [rule.key(subject) for rule, subject in checks if rule.cleared_by_success]
        if cleared:
            self.redis.delete(*cleared)
        kept = [rule.key(subject) for rule, subject in checks if not rule.cleared_by_success]
        if kept:
            self._take_back(keys=kept)

    def take(self, rule: Rule, subject: str) -> bool:
        """For rate limits rather than secrets: True, and counted, if the action may happen."""
        return self.attempt((rule, subject))

    # -- credentials, with known devices ------------------------------------------------------

    @staticmethod
    def _device_key(credential: Credential, account: str, device: str) -> str:
        return f"known_device:{credential.name}:{account}:{device}"

    def checks(self, credential: Credential, account: str, *, device: str | None,
               ip: str) -> Checks:
        """The rules an attempt at `account`'s credential from this device and address is
        counted under (`device`: the browser's id, a UUID we gave it; without a valid one,
        its address stands in)."""
        known = _device(device, ip)
        if self.redis.exists(self._device_key(credential, account, known)):
            return ((credential.per_known_device, f"{account}:{known}"),)
        return ((credential.per_account, account), (credential.per_ip, ip))

    @staticmethod
    def in_session(credential: Credential, account: str, session_id: str) -> Checks:
        """For a credential proven again inside a live session: the session signed in, so it
        is a known device by definition, and has a bucket of its own."""
        return ((credential.per_known_device, f"{account}:session:{session_id}"),)

    def proved(self, credential: Credential, account: str, checks: Checks, *,
               device: str | None, ip: str) -> None:
        """The credential was right: clear as `succeeded` does, and know this device."""
        self.succeeded(*checks)
        self.redis.set(self._device_key(credential, account, _device(device, ip)), 1,
                       ex=credential.remembered)


def _device(cookie: str | None, ip: str) -> str:
    """Cookies and addresses never share a name: a cookie saying an address is not it."""
    if cookie and is_uuid(cookie):
        return f"cookie:{cookie.lower()}"
    return f"ip:{ip}"
