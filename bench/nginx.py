"""Debian's nginx as an anchor beside Tessera, in its own folder on a free port: what an
operator would put in front instead (`apt-get install nginx-light libnginx-mod-nchan`)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tessera_launcher.processes import free_port

MODULES = Path("/usr/lib/nginx/modules")
CONF = """{modules}
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile {files};
pid {folder}/nginx.pid;
events {{ worker_connections {connections}; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  {http}
  server {{
    listen 127.0.0.1:{port};
    {server}
  }}
}}
"""


def binary() -> str | None:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if Path(found).exists() else None


def available(*modules: str) -> bool:
    return binary() is not None and all((MODULES / f"{m}.so").exists() for m in modules)


@contextlib.contextmanager
def running(server: str, *, http: str = "", modules: tuple[str, ...] = (),
            connections: int = 4096) -> Iterator[tuple[int, int]]:
    """nginx as one process (no master, one worker, as the gateway runs by default) with
    `server` inside its one server block and `http` beside it; yields (port, pid) and stops
    it by that PID."""
    nginx = binary()
    if nginx is None or not available(*modules):
        raise SystemExit("nginx is not installed: apt-get install nginx-light "
                         "libnginx-mod-nchan")
    folder = Path(tempfile.mkdtemp(prefix="tessera-nginx-"))
    port = free_port()
    (folder / "nginx.conf").write_text(CONF.format(
        modules="".join(f"load_module {MODULES / f'{m}.so'};\n" for m in modules),
        folder=folder, port=port, connections=connections, files=2 * connections + 1000,
        http=http, server=server))
    process = subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                                "-e", str(folder / "error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"nginx did not start; see {folder / 'error.log'}") from None
                time.sleep(0.05)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(10)
