"""What an auth-service process loads at start: the identity providers' libraries only when a
provider is configured (they weigh ~16 MiB in every auth process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = ("import json, sys, auth_service; app = auth_service.create_app(); "
         "heavy = {'authlib', 'joserfc', 'requests'}; "
         "print(json.dumps({'loaded': sorted(heavy & set(sys.modules)), "
         "'providers': app.extensions['auth'].social.enabled()}))")


def started(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_providers_authlib_joserfc_and_requests_are_never_loaded(service_env):
    assert started(service_env) == {"loaded": [], "providers": []}


@pytest.mark.parametrize("provider", ["GOOGLE", "GITHUB"])
def test_a_configured_provider_brings_them(service_env, provider):
    found = started({**service_env, f"OAUTH_{provider}_CLIENT_ID": "id",
                     f"OAUTH_{provider}_CLIENT_SECRET": "secret"})
    assert found == {"loaded": ["authlib", "joserfc", "requests"],
                     "providers": [provider.lower()]}
