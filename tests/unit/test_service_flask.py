"""ServiceFlask remembers which functions are coroutine functions, and still hands those to
Flask's async support."""

from __future__ import annotations

from tessera_shared.app import ServiceFlask


def test_a_plain_function_and_a_freshly_bound_method_are_called_as_they_are():
    app = ServiceFlask(__name__)

    def hook() -> None: ...

    class View:
        def get(self) -> str:
            return "got"

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook  # asked again, from what it remembered
    first, second = View().get, View().get
    assert app.ensure_sync(first) is first
    assert app.ensure_sync(second) is second
    assert app.ensure_sync(second)() == "got"


def test_a_coroutine_function_goes_to_flasks_async_support_every_time():
    app = ServiceFlask(__name__)
    app.async_to_sync = lambda func: ("made synchronous", func)  # type: ignore[method-assign]

    async def view() -> None: ...

    class View:
        async def get(self) -> None: ...

    assert app.ensure_sync(view) == ("made synchronous", view)
    assert app.ensure_sync(view) == ("made synchronous", view)
    method = View().get
    assert app.ensure_sync(method) == ("made synchronous", method)
