import pytest
import redis
from redis.sentinel import SentinelManagedSSLConnection

from gateway.config import GatewaySettings
from tessera_shared.config import ConfigError, Settings
from tessera_shared.redis import connect

COMPLETE = {"REDIS_URL": "redis://127.0.0.1:6379/0", "INTERNAL_SECRET": "i" * 40,
            "SECRET_KEY": "s" * 40}


@pytest.mark.parametrize("missing", ["REDIS_URL", "INTERNAL_SECRET", "SECRET_KEY"])
def test_a_service_refuses_to_start_without_a_production_secret(missing):
    env = {k: v for k, v in COMPLETE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env("auth", env)


@pytest.mark.asvs("V3.4.1")
def test_cookies_are_secure_unless_the_public_url_is_plain_http():
    assert not Settings.from_env("auth", {**COMPLETE, "PORT": "9000"}).secure_cookies
    https = Settings.from_env("auth", {**COMPLETE, "PUBLIC_URL": "https://id.example/"})
    assert https.secure_cookies
    assert https.public_url == "https://id.example"


def test_a_public_url_that_is_not_http_fails_fast():
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        Settings.from_env("auth", {**COMPLETE, "PUBLIC_URL": "ftp://x"})


GATEWAY = {**{f"{s.upper()}_SERVICE_URL": "http://127.0.0.1:1"
              for s in ("user", "auth", "registry", "events")},
           "REDIS_URL": "redis://127.0.0.1:1/0", "INTERNAL_SECRET": "i" * 40}


def test_bad_trusted_proxies_fail_fast_and_name_the_variable():
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        GatewaySettings.from_env({**GATEWAY, "TRUSTED_PROXIES": "10.0.0.0/33"})


@pytest.mark.parametrize("missing", ["REDIS_URL", "INTERNAL_SECRET"])
def test_the_gateway_needs_redis_for_the_live_streams_and_the_secret_it_signs_with(missing):
    with pytest.raises(ConfigError, match=missing):
        GatewaySettings.from_env({k: v for k, v in GATEWAY.items() if k != missing})


def test_the_gateway_needs_every_service_address():
    with pytest.raises(ConfigError, match="USER_SERVICE_URL"):
        GatewaySettings.from_env({})


@pytest.mark.parametrize(("raw", "expected"), [("", True), ("true", True), ("FALSE", False),
                                               ("0", False), ("yes", True), (" off ", False)])
def test_registration_is_open_unless_switched_off(raw, expected):
    settings = Settings.from_env("auth", {**COMPLETE, "REGISTRATION_OPEN": raw})
    assert settings.registration_open is expected


def test_a_switch_that_is_neither_true_nor_false_fails_fast():
    with pytest.raises(ConfigError, match="REGISTRATION_OPEN"):
        Settings.from_env("auth", {**COMPLETE, "REGISTRATION_OPEN": "maybe"})


def test_a_provider_is_enabled_by_its_client_id_and_needs_its_secret():
    settings = Settings.from_env("auth", COMPLETE)
    assert settings.oauth.google is None
    assert settings.oauth.github is None
    enabled = Settings.from_env("auth", {**COMPLETE, "OAUTH_GITHUB_CLIENT_ID": "id",
                                         "OAUTH_GITHUB_CLIENT_SECRET": "secret",
                                         "OAUTH_GITHUB_API_URL": "http://127.0.0.1:9/api/"})
    assert enabled.oauth.github.client_id == "id"
    assert enabled.oauth.github_api_url == "http://127.0.0.1:9/api"
    assert enabled.oauth.google_metadata_url.startswith("https://accounts.google.com/")
    with pytest.raises(ConfigError, match="OAUTH_GOOGLE_CLIENT_SECRET"):
        Settings.from_env("auth", {**COMPLETE, "OAUTH_GOOGLE_CLIENT_ID": "id"})
    with pytest.raises(ConfigError, match="OAUTH_GOOGLE_METADATA_URL"):
        Settings.from_env("auth", {**COMPLETE, "OAUTH_GOOGLE_METADATA_URL": "file:///etc"})


def test_the_sign_up_limit_is_the_operators_to_set():
    assert Settings.from_env("auth", COMPLETE).sign_ups_per_address == 20
    assert Settings.from_env("auth", {**COMPLETE, "SIGN_UPS_PER_ADDRESS": "3"}
                             ).sign_ups_per_address == 3
    for wrong in ("0", "-1", "many"):
        with pytest.raises(ConfigError, match="SIGN_UPS_PER_ADDRESS"):
            Settings.from_env("auth", {**COMPLETE, "SIGN_UPS_PER_ADDRESS": wrong})


def test_with_sentinels_redis_is_the_master_they_name_and_redis_url_only_its_password():
    settings = Settings.from_env("auth", {
        **COMPLETE, "REDIS_URL": "redis://:pw@/2", "REDIS_SENTINELS": "10.0.0.1:26379, [::1]:5",
        "REDIS_SENTINEL_MASTER": "tessera"})
    assert settings.redis.sentinels == (("10.0.0.1", 26379), ("::1", 5))
    assert (settings.redis.master, settings.redis.url) == ("tessera", "redis://:pw@/2")
    client = connect(settings.redis)  # connects lazily: nothing listens there
    assert client.connection_pool.service_name == "tessera"
    assert client.connection_pool.connection_kwargs["password"] == "pw"
    assert client.connection_pool.connection_kwargs["db"] == 2


@pytest.mark.parametrize(("sentinels", "master", "url", "named"), [
    ("10.0.0.1", "tessera", "", "REDIS_SENTINELS"),
    ("10.0.0.1:x", "tessera", "", "REDIS_SENTINELS"),
    ("10.0.0.1:26379", "", "", "REDIS_SENTINEL_MASTER"),
    ("10.0.0.1:26379", "tessera", "redis://:pw@redis.example.com:6379/0", "REDIS_URL"),
    ("10.0.0.1:26379", "tessera", "redis://:pw@/zero", "REDIS_URL")])
def test_sentinels_that_do_not_say_where_or_which_master_fail_fast(sentinels, master, url,
                                                                   named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env("auth", {**COMPLETE, "REDIS_URL": url, "REDIS_SENTINELS": sentinels,
                                   "REDIS_SENTINEL_MASTER": master})


def test_a_rediss_url_with_sentinels_keeps_tls_to_the_master_and_the_sentinels():
    settings = Settings.from_env("auth", {
        **COMPLETE, "REDIS_URL": "rediss://:pw@/0", "REDIS_SENTINELS": "10.0.0.1:26379",
        "REDIS_SENTINEL_MASTER": "tessera"})
    client = connect(settings.redis)
    assert client.connection_pool.connection_class is SentinelManagedSSLConnection
    assert client.connection_pool.connection_kwargs["password"] == "pw"
    (sentinel,) = client.connection_pool.sentinel_manager.sentinels
    assert sentinel.connection_pool.connection_class is redis.SSLConnection


@pytest.mark.parametrize("urls", [",", "http://127.0.0.1", "127.0.0.1:80",
                                  "http://127.0.0.1:1/x", "http://127.0.0.1:99999"])
def test_a_service_address_that_is_not_http_host_port_fails_fast(urls):
    with pytest.raises(ConfigError, match="USER_SERVICE_URL"):
        Settings.from_env("auth", {**COMPLETE, "USER_SERVICE_URL": urls})


def test_a_service_may_have_several_instances():
    settings = Settings.from_env("auth", {
        **COMPLETE, "USER_SERVICE_URL": "http://127.0.0.1:1, http://127.0.0.1:2/"})
    assert settings.service_urls["user"] == ("http://127.0.0.1:1", "http://127.0.0.1:2")


@pytest.mark.parametrize(("public_url", "rp_id", "origins"), [
    ("https://id.example.com", "id.example.com", ("https://id.example.com",)),
    ("http://127.0.0.1:8080", "localhost", ("http://localhost:8080",)),  # no IP as an RP id
    ("http://[::1]:9000", "localhost", ("http://localhost:9000",)),
    ("https://203.0.113.9", "localhost", ("https://localhost",)),
])
def test_passkeys_follow_the_public_url(public_url, rp_id, origins):
    passkeys = Settings.from_env("auth", {**COMPLETE, "PUBLIC_URL": public_url}).passkeys
    assert (passkeys.rp_id, passkeys.origins) == (rp_id, origins)


def test_passkeys_may_belong_to_a_parent_domain_and_serve_several_origins():
    env = {**COMPLETE, "PUBLIC_URL": "https://id.example.com", "PASSKEY_RP_ID": "Example.com",
           "PASSKEY_ORIGINS": "https://id.example.com, https://example.com/"}
    passkeys = Settings.from_env("auth", env).passkeys
    assert passkeys.rp_id == "example.com"
    assert passkeys.origins == ("https://id.example.com", "https://example.com")


@pytest.mark.parametrize(("variables", "named"), [
    ({"PASSKEY_RP_ID": "192.0.2.1"}, "PASSKEY_RP_ID"),
    ({"PASSKEY_RP_ID": "example..com"}, "PASSKEY_RP_ID"),
    ({"PASSKEY_ORIGINS": "https://evil.example"}, "PASSKEY_RP_ID"),
    ({"PASSKEY_ORIGINS": "https://id.example.com/login"}, "PASSKEY_ORIGINS"),
    ({"PASSKEY_ORIGINS": "id.example.com"}, "PASSKEY_ORIGINS"),
    ({"PASSKEY_ORIGINS": "http://id.example.com"}, "plain http"),
])
def test_passkey_settings_a_browser_would_refuse_fail_fast(variables, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env("auth", {**COMPLETE, "PUBLIC_URL": "https://id.example.com",
                                   **variables})

