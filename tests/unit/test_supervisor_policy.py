"""The launcher's restart policy: a doubling backoff, and giving up on a process that keeps
crashing (the e2e suite kills real processes; this pins the arithmetic)."""

from __future__ import annotations

import signal

from tessera_launcher.launch import Crashes
from tessera_launcher.processes import exit_reason


def test_each_crash_doubles_the_wait_until_the_fifth_within_a_minute_gives_up():
    crashes = Crashes()
    assert [crashes.record(at) for at in (0, 1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0, None]


def test_crashes_older_than_the_window_are_forgotten():
    crashes = Crashes()
    for at in (0, 10, 20, 30):
        crashes.record(at)
    # At 65 s the crash at 0 s is more than a minute old: this is the fourth within it.
    assert crashes.record(65) == 4.0
    assert crashes.record(200) == 0.5


def test_how_a_process_ended_reads_as_words():
    assert exit_reason(-signal.SIGKILL) == "was killed by SIGKILL"
    assert exit_reason(3) == "exited with code 3"
    assert exit_reason(-200) == "exited with code -200"

