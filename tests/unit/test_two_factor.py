"""TOTP codes and sealed secrets, without a server."""

from __future__ import annotations

import pyotp
import pytest

from auth_service.two_factor import matching_step
from tessera_shared.keys import SealError, Vault

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_800_000_015.0  # 15 s into a step
STEP = int(NOW // 30)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_a_code_from_the_previous_current_or_next_step_is_accepted(offset):
    code = pyotp.TOTP(SECRET).generate_otp(STEP + offset)
    assert matching_step(SECRET, code, NOW) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_a_code_from_further_away_is_refused(offset):
    assert matching_step(SECRET, pyotp.TOTP(SECRET).generate_otp(STEP + offset), NOW) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "١٢٣٤٥٦", "12 456", "abcdef"])
def test_anything_but_six_ascii_digits_matches_nothing(code):
    assert matching_step(SECRET, code, NOW) is None


def test_a_sealed_secret_opens_only_for_its_owner_and_key():
    vault = Vault(b"k" * 32, "tessera totp secret")
    sealed = vault.seal(SECRET, "user-1")
    assert SECRET not in sealed
    assert vault.seal(SECRET, "user-1") != sealed  # a fresh nonce each time
    assert vault.open(sealed, "user-1") == SECRET
    with pytest.raises(SealError):
        vault.open(sealed, "user-2")
    with pytest.raises(SealError):
        Vault(b"other" * 8, "tessera totp secret").open(sealed, "user-1")
    with pytest.raises(SealError):
        Vault(b"k" * 32, "another purpose").open(sealed, "user-1")
