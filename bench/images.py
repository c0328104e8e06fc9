"""Image uploads under pressure: user-service's memory during a burst of the largest images.

Its worker's peak while they are decoded, and what it keeps afterwards, against its own idle
size in the same run.

    ./tessera bench images            # 8 parallel uploads of a 4096 x 4096 RGBA PNG
    ./tessera bench images --uploads 16

Also sends the attack's file (a 190 KB PNG of 7000 x 7000 pixels) and reports its answer. The
platform runs with the launcher's defaults and is stopped by PID at the end; the burst is
bounded in count.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from PIL import Image

from bench.run import parser_for, progress, running_platform, save

MAX_SIDE = 4096  # user-service's pixel budget (images.MAX_SIDE_DECODED)


def flat_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (side, side), (10, 200, 30, 255)).save(out, "PNG", optimize=True)
    return out.getvalue()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def user_worker(var_dir: Path) -> int:
    master = json.loads((var_dir / "run" / "platform.json").read_text())["pids"]["user"]
    return int(Path(f"/proc/{master}/task/{master}/children").read_text().split()[0])


def main() -> None:
    parser = parser_for("images", __doc__)
    parser.add_argument("--uploads", type=int, default=8, help="uploads in the burst")
    args = parser.parse_args()
    largest, bomb = flat_png(MAX_SIDE), flat_png(7000)
    print("Tessera image bench — starting the platform with the launcher's defaults",
          flush=True)
    with running_platform("images") as (public, var_dir, _launcher):
        handle = f"img{uuid.uuid4().hex[:8]}"
        user = {"email": f"{handle}@example.com", "handle": handle,
                "display_name": "Image Bench", "password": "correct horse battery staple"}
        requests.post(f"{public}/v0/users", json=user, timeout=30)
        client = requests.Session()
        client.post(f"{public}/v0/auth/login", timeout=30,
                    json={"email": user["email"], "password": user["password"]})
        worker = user_worker(var_dir)
        idle = rss_mib(worker)
        progress(f"user-service worker at idle: {idle:.0f} MiB")

        def upload(data: bytes) -> int:
            return client.post(f"{public}/v0/user/me/banner-image", timeout=300,
                               files={"file": ("image.png", data, "image/png")}).status_code

        peak, sampling = [idle], threading.Event()

        def sample() -> None:
            while not sampling.wait(0.05):
                peak[0] = max(peak[0], rss_mib(worker))

        sampler = threading.Thread(target=sample)
        sampler.start()
        progress(f"{args.uploads} parallel uploads of a {MAX_SIDE} x {MAX_SIDE} RGBA PNG")
        started = time.monotonic()
        with ThreadPoolExecutor(args.uploads) as pool:
            statuses = sorted(pool.map(upload, [largest] * args.uploads))
        seconds = time.monotonic() - started
        bomb_status = upload(bomb)
        time.sleep(1)
        sampling.set()
        sampler.join()
        after = rss_mib(worker)
    results = {"uploads": args.uploads, "statuses": statuses, "seconds": round(seconds, 2),
               "idle_mib": round(idle), "peak_mib": round(peak[0]),
               "after_mib": round(after), "peak_vs_idle": round(peak[0] / idle, 2),
               "after_vs_idle": round(after / idle, 2), "bomb_status": bomb_status}
    print(json.dumps(results, indent=2))
    print(f"Saved to {save('images', results)}; copy the figures to bench/RESULTS.md.")


if __name__ == "__main__":
    main()
