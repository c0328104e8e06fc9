"""Each service's instances, and which of them gets the next request.

Requests go to a service's ready instances in turn. Every gateway worker asks each instance
for `/health/ready` once a second: an instance that fails the check, or refuses a connection,
gets no requests until it passes again. When no instance of a service is ready, all are tried
(a check can fail for a reason the request would not meet).

The same checks answer the gateway's own `/health-check` and `/health/ready`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import urllib3

from gateway.config import GatewaySettings, Upstream
from gateway.upstream import UpstreamPool

log = logging.getLogger(__name__)
CHECK_SECONDS = 1.0
CHECK_TIMEOUT = 1.5
UNCHECKED = "unchecked"
READY = "ok"


class Instance:
    """One instance of a service: its pooled connections, and what its last check found."""

    def __init__(self, upstream: Upstream, pool: UpstreamPool) -> None:
        self.upstream = upstream
        self.pool = pool
        self.state = UNCHECKED  # READY, "unreachable", "not ready (503)"

    @property
    def takes_requests(self) -> bool:
        return self.state in {READY, UNCHECKED}  # unchecked: the gateway has just started

    def refused(self) -> None:
        """It took no connection: out until its next check passes."""
        self.state = "unreachable"


class Instances:
    """A service's instances, handed out in turn."""

    def __init__(self, instances: list[Instance]) -> None:
        self.all = tuple(instances)
        self._turn = itertools.count()

    def in_turn(self) -> Iterator[Instance]:
        """The instances to try for one request, best first: the ready ones, starting with
        the next in turn (or all of them, when none is ready)."""
        candidates = [instance for instance in self.all if instance.takes_requests] or self.all
        first = next(self._turn) % len(candidates)
        return itertools.chain(candidates[first:], candidates[:first])

    @property
    def state(self) -> str:
        """The service's health: ready while any instance is, else the first one's trouble."""
        states = [instance.state for instance in self.all]
        return READY if READY in states else states[0]


class Upstreams:
    """Every service's instances, checked by one thread per gateway worker, started the
    first time anyone asks (in the worker, not in a master that forks it)."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.services = {
            name: Instances([Instance(upstream, UpstreamPool(
                upstream, connect_timeout=settings.connect_timeout,
                read_timeout=settings.read_timeout)) for upstream in upstreams])
            for name, upstreams in settings.upstreams.items()}
        self.http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=CHECK_TIMEOUT))
        self._instances = [i for service in self.services.values() for i in service.all]
        self._checks = ThreadPoolExecutor(max_workers=len(self._instances))
        self._checked = threading.Event()  # every instance has been checked once
        self._watching = False
        self._starting = threading.Lock()

    def __getitem__(self, service: str) -> Instances:
        self._watch()
        return self.services[service]

    def status(self) -> dict[str, Instances]:
        """Every service, once each instance has been checked (those not yet checked by
        then count as not ready)."""
        self._watch()
        self._checked.wait(2 * CHECK_TIMEOUT)
        return self.services

    def _watch(self) -> None:
        if self._watching:
            return
        with self._starting:
            if not self._watching:
                threading.Thread(target=self._check_forever, name="upstream-checks",
                                 daemon=True).start()
                self._watching = True

    def _check_forever(self) -> None:
        while True:
            try:
                self.check()
            except Exception:  # the checks must go on, or no instance would come back
                log.exception("checking the services' instances failed")
            self._checked.set()
            time.sleep(CHECK_SECONDS)

    def check(self) -> None:
        """Check every instance once, all at the same time."""
        for instance, state in zip(self._instances,
                                   self._checks.map(self._check, self._instances), strict=True):
            instance.state = state

    def _check(self, instance: Instance) -> str:
        try:
            response = self.http.request("GET", f"{instance.upstream.url}/health/ready")
        except urllib3.exceptions.HTTPError:
            return "unreachable"
        return READY if response.status == 200 else f"not ready ({response.status})"
