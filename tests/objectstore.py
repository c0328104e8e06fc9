"""A real S3-compatible server on loopback (moto's), for the media store's bucket path."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from tessera_launcher.processes import answer_status, free_port
from tests.e2e.conftest import eventually


@dataclass
class ObjectStore:
    url: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, log: Path) -> ObjectStore:
        port = free_port()
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=output, stderr=subprocess.STDOUT)
        running = cls(f"http://127.0.0.1:{port}", process)
        eventually(lambda: answer_status(running.url) is not None, timeout=30)
        return running

    def env(self) -> dict[str, str]:
        """boto3's variables for a client of this server."""
        return {"AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": "tessera-test",
                "AWS_SECRET_ACCESS_KEY": "tessera-test", "AWS_DEFAULT_REGION": "us-east-1"}

    def client(self) -> Any:
        env = self.env()
        return boto3.client("s3", endpoint_url=self.url, region_name=env["AWS_DEFAULT_REGION"],
                            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])

    def new_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
