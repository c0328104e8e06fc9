"""The distribution a non-editable install (the container image) is built from."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_every_service_with_its_migrations_and_assets(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    [wheel] = tmp_path.glob("tessera-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("user_service", "auth_service", "registry_service", "events_service"):
        assert f"{package}/migrations/env.py" in names
        assert any(name.startswith(f"{package}/migrations/versions/0001_") for name in names)
    for path in ("auth_service/data/common-passwords.txt.gz", "gateway/static/docs.html",
                 "gateway/console/index.html", "gateway/console/app.js",
                 "tessera_launcher/cli.py", "tessera_shared/clients/profiles.py"):
        assert path in names
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "tessera = tessera_launcher.cli:main" in zipfile.ZipFile(wheel).read(
        entry_points).decode()
