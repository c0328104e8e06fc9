"""Where stored images live (`MEDIA_URL`): a folder (by default `var/media`), or a bucket of
an S3-compatible object store (`s3://bucket/prefix`, with boto3's usual variables:
`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`), which
every instance of user-service shares. Objects are whole and never change: a key is a hash of
its owner and content, so two writers of one key write the same bytes."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from tessera_shared.config import ConfigError, Settings
from tessera_shared.errors import SERVICE_UNAVAILABLE

log = logging.getLogger(__name__)


class MediaStore(Protocol):
    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is none."""

    def write(self, key: str, data: bytes) -> None:
        """Store the object whole (readers never see part of one); a key holds one content,
        so writing it again changes nothing."""

    def keys(self, prefix: str) -> list[str]:
        """The keys that begin with `prefix`."""

    def delete(self, keys: list[str]) -> None:
        """Delete the objects (one already gone is fine)."""


class FolderStore:
    """Objects as files in a folder of this machine."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def read(self, key: str) -> bytes | None:
        try:
            return (self.folder / key).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, key: str, data: bytes) -> None:
        path = self.folder / key
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own: another instance or thread may be writing the same file.
        partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.part")
        partial.write_bytes(data)
        partial.rename(path)

    def keys(self, prefix: str) -> list[str]:
        folder, _, start = prefix.rpartition("/")
        found = []
        for path in (self.folder / folder).glob(f"{start}*"):
            for file in path.rglob("*") if path.is_dir() else [path]:
                if file.is_file() and not file.name.startswith("."):  # not a write under way
                    found.append(file.relative_to(self.folder).as_posix())
        return found

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            (self.folder / key).unlink(missing_ok=True)


class BucketStore:
    """Objects in a bucket of an S3-compatible store, under `prefix`. A store that cannot be
    reached, or refuses, is `system:service_unavailable`: a missing object is an answer
    (None), every other trouble is the store's."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:  # boto3's S3 client
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415  # as boto3

        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self._failures = (BotoCoreError, ClientError)

    @contextmanager
    def _asking(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._failures as error:
            log.warning("the image store failed", extra={"doing": what, "error": str(error)})
            raise SERVICE_UNAVAILABLE("The image store did not answer; try again in a "
                                      "moment.") from error

    def read(self, key: str) -> bytes | None:
        with self._asking("read"):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            except self.client.exceptions.NoSuchKey:
                return None
            return answer["Body"].read()

    def write(self, key: str, data: bytes) -> None:
        # A PUT replaces an object whole, and one key always holds the same bytes.
        with self._asking("write"):
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def keys(self, prefix: str) -> list[str]:
        with self._asking("list"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix)
            return [item["Key"].removeprefix(self.prefix)
                    for page in pages for item in page.get("Contents", [])]

    def delete(self, keys: list[str]) -> None:
        with self._asking("delete"):
            for start in range(0, len(keys), 1000):  # the most one request deletes
                self.client.delete_objects(Bucket=self.bucket, Delete={
                    "Objects": [{"Key": self.prefix + key} for key in keys[start:start + 1000]],
                    "Quiet": True})


def from_settings(settings: Settings) -> MediaStore:
    """The store `MEDIA_URL` names; a folder under `var/` without one."""
    if not settings.media_url:
        return FolderStore(settings.var_dir / "media")
    parts = urlsplit(settings.media_url)
    if parts.scheme == "s3" and parts.hostname:
        import boto3  # noqa: PLC0415  # ~40 MiB, for a platform that stores in a bucket only

        prefix = parts.path.strip("/")
        return BucketStore(boto3.client("s3"), parts.hostname, f"{prefix}/" if prefix else "")
    if not parts.scheme:
        return FolderStore(Path(settings.media_url).resolve())
    raise ConfigError(f"MEDIA_URL must be a folder or s3://bucket/prefix, not "
                      f"{settings.media_url!r}.")
