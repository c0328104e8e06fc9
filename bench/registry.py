"""The key registry: REST and Omikron WebSocket through the gateway, against the same calls
made straight to registry-service in the same run.

    ./tessera bench registry            # three runs per REST case, 2,000 socket round trips
    ./tessera bench registry --quick

Cases:
  rest    GET /api/get/<uuid> (one internal call to user-service for the profile): throughput
          at 32 connections and p50 at 1 connection, through the gateway vs direct.
  socket  an authenticated Omikron's round trips, one at a time: `ping` (answered by the
          registry alone) and `get_user_data` (a database read, Redis presence and a call to
          user-service), through the gateway's WebSocket bridge vs direct.

The platform runs with the launcher's defaults and is stopped by PID at the end; every load
is bounded in time or count.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import simple_websocket
from cryptography.hazmat.primitives.asymmetric.x448 import X448PrivateKey, X448PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from run import median_load, progress, running_platform, save


def call(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def public_key(private: X448PrivateKey) -> str:
    return base64.b64encode(private.public_key().public_bytes(Encoding.Raw,
                                                              PublicFormat.Raw)).decode()


def register_user(base: str, username: str) -> str:
    """As an Iota does it: init, then complete with fresh keys and a 256-character token."""
    private = os.urandom(56)
    user_id = call(f"{base}/api/register/init")["data"]["user_id"]
    call(f"{base}/api/register/complete", {
        "uuid": user_id, "username": username,
        "public_key": public_key(X448PrivateKey.from_private_bytes(private)),
        "private_key_hash": hashlib.sha256(base64.b64encode(private)).hexdigest(),
        "iota_id": user_id, "reset_token": base64.b64encode(os.urandom(192)).decode()})
    return user_id


def register_omikron(var_dir: Path, key: X448PrivateKey) -> int:
    out = subprocess.run([sys.executable, "-m", "tessera_launcher", "registry", "omikron",
                          "add", public_key(key)], capture_output=True, text=True, check=True,
                         env={**os.environ, "TESSERA_VAR_DIR": str(var_dir)}).stdout
    return int(out.split()[1])


def connect(ws_url: str, number: int, key: X448PrivateKey) -> simple_websocket.Client:
    socket = simple_websocket.Client.connect(ws_url)
    socket.send(json.dumps({"id": "id-1", "type": "identification",
                            "data": {"omikron": number}}))
    challenge = json.loads(socket.receive(timeout=10))["data"]
    shared = key.exchange(X448PublicKey.from_public_bytes(
        base64.b64decode(challenge["public_key"])))
    raw = base64.b64decode(challenge["challenge"])
    plain = AESGCM(hashlib.sha256(shared).digest()).decrypt(raw[:12], raw[12:], None).decode()
    socket.send(json.dumps({"id": "id-2", "type": "challenge_response",
                            "data": {"challenge": plain}}))
    assert json.loads(socket.receive(timeout=10))["type"] == "identification_response"
    return socket


def round_trips(socket: simple_websocket.Client, kind: str, data: dict,
                count: int) -> list[float]:
    times = []
    for i in range(count):
        started = time.perf_counter()
        socket.send(json.dumps({"id": f"r{i}", "type": kind, "data": data}))
        while json.loads(socket.receive(timeout=10))["id"] != f"r{i}":
            pass  # a ping from the server
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50_ms": round(statistics.median(ordered), 3),
            "p99_ms": round(ordered[int(len(ordered) * 0.99)], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run per REST case")
    parser.add_argument("--round-trips", type=int, default=2000)
    args = parser.parse_args()
    runs, seconds = (1, 3) if args.quick else (3, 5)
    print("Registry benchmark — starting the platform with the launcher's defaults", flush=True)
    results: dict = {}
    with running_platform("registry") as (gateway, var_dir, _launcher):
        direct = json.loads((var_dir / "run" / "platform.json").read_text())["registry_url"]
        username = "bench" + uuid.uuid4().hex[:8]
        user_id = register_user(gateway, username)

        for label, connections in (("throughput_c32", 32), ("latency_c1", 1)):
            progress(f"rest {label}: direct, then through the gateway")
            straight = median_load(f"{direct}/api/get/{user_id}", connections, seconds, runs)
            proxied = median_load(f"{gateway}/api/get/{user_id}", connections, seconds, runs)
            results[f"rest_{label}"] = {
                "direct_rps": round(straight.requests_per_second),
                "gateway_rps": round(proxied.requests_per_second),
                "ratio": round(proxied.requests_per_second / straight.requests_per_second, 2),
                "direct_p50_ms": round(straight.p50_ms, 2),
                "gateway_p50_ms": round(proxied.p50_ms, 2),
                "added_p50_ms": round(proxied.p50_ms - straight.p50_ms, 2)}
            print(f"  rest {label}: {results[f'rest_{label}']}", flush=True)

        key = X448PrivateKey.generate()
        number = register_omikron(var_dir, key)
        socket_user = call(f"{gateway}/api/get/uuid/{username}")["data"]["user_id"]
        assert socket_user == user_id
        for path, base in (("direct", direct), ("gateway", gateway)):
            progress(f"socket round trips, {path}")
            socket = connect(base.replace("http://", "ws://") + "/ws/omikron", number, key)
            lookup = {"username": username}
            results[f"socket_{path}"] = {
                "ping": summary(round_trips(socket, "ping", {}, args.round_trips)),
                "get_user_data": summary(round_trips(socket, "get_user_data", lookup,
                                                     args.round_trips))}
            socket.close()
            print(f"  socket {path}: {results[f'socket_{path}']}", flush=True)
        results["socket_added_p50_ms"] = {
            kind: round(results["socket_gateway"][kind]["p50_ms"]
                        - results["socket_direct"][kind]["p50_ms"], 3)
            for kind in ("ping", "get_user_data")}
        print(f"  socket, added by the gateway (p50): {results['socket_added_p50_ms']}")
    print(f"Saved to {save('registry', results)}")


if __name__ == "__main__":
    main()
