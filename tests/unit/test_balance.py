"""Which instance of a service gets the next request through the gateway."""

from __future__ import annotations

from gateway.balance import READY, Instance, Instances
from gateway.config import Upstream
from gateway.upstream import UpstreamPool


def instances(count: int) -> Instances:
    made = [Instance(upstream, UpstreamPool(upstream, connect_timeout=1, read_timeout=1))
            for upstream in (Upstream("user", "127.0.0.1", 9000 + n) for n in range(count))]
    return Instances(made)


def ports(service: Instances) -> list[int]:
    return [instance.upstream.port for instance in service.in_turn()]


def test_requests_go_to_each_instance_in_turn_and_the_others_follow_as_spares():
    service = instances(3)
    assert [ports(service) for _ in range(4)] == [
        [9000, 9001, 9002], [9001, 9002, 9000], [9002, 9000, 9001], [9000, 9001, 9002]]


def test_an_instance_that_fails_its_check_or_refuses_gets_nothing_until_it_passes_again():
    service = instances(3)
    first, second, third = service.all
    first.state, second.state = READY, "not ready (503)"
    third.refused()
    assert {tuple(ports(service)) for _ in range(3)} == {(9000,)}
    assert service.state == "ok"
    third.state = READY
    assert sorted(ports(service)) == [9000, 9002]


def test_when_no_instance_is_ready_every_one_is_tried_and_the_service_is_not_ready():
    service = instances(2)
    for instance in service.all:
        instance.refused()
    assert sorted(ports(service)) == [9000, 9001]
    assert service.state == "unreachable"
