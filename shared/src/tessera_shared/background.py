"""Loops that run beside the requests of a service worker (outbox relay, event consumers,
mail sender): each in a daemon thread, started when gunicorn has loaded the app and stopped
promptly when the worker exits."""

from __future__ import annotations

import threading


class BackgroundWorker:
    thread_name = "background"

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """The loop; it must return soon after `stopping` is set."""
        raise NotImplementedError

    def wake(self) -> None:
        """Cut short whatever the loop is waiting on (a loop that waits on an event sets it)."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self.stopping.set()
        self.wake()
        if self._thread:
            self._thread.join(timeout)
