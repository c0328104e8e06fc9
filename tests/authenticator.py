"""An authenticator app, as a test's phone: reads the otpauth:// URI and gives TOTP codes."""

from __future__ import annotations

import time

import pyotp

STEP_MARGIN = 2.0  # seconds: a code is not handed out this close to its step's end


class Authenticator:
    """Each code is for a newer time step than the last, as a server that takes each code once
    requires. The server accepts the previous, current and next step, so three codes are ready
    at any moment; a fourth waits for the clock."""

    def __init__(self, uri: str) -> None:
        self.totp = pyotp.parse_uri(uri)
        self.last_step: int | None = None

    def code(self) -> str:
        while True:
            now = time.time()
            left = self.totp.interval - now % self.totp.interval
            if left < STEP_MARGIN:  # it could be a step too old when it arrives
                time.sleep(left + 0.05)
                continue
            current = int(now // self.totp.interval)
            fresh = [step for step in (current - 1, current, current + 1)
                     if self.last_step is None or step > self.last_step]
            if fresh:
                self.last_step = fresh[0]
                return self.totp.generate_otp(fresh[0])
            time.sleep(left + 0.05)

    def wrong_code(self) -> str:
        """A six-digit code that is none of the accepted ones."""
        current = int(time.time() // self.totp.interval)
        accepted = {self.totp.generate_otp(step) for step in range(current - 2, current + 3)}
        return next(code for n in range(1_000_000)
                    if (code := f"{n:06d}") not in accepted)
