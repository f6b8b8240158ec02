"""`BackgroundEmulator`: a `DiscordEmulator` on its own event loop in a daemon thread, for sync code.

Everything that touches the emulator runs on that loop (`call`), so a test never reads its state
while a request is changing it."""

import asyncio
import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Self, TypeVar

from emulator.interactions import Interaction
from emulator.modals import Value
from emulator.server import DiscordEmulator
from emulator.spec import SpecViolation

T = TypeVar("T")
CALL_TIMEOUT = 30.0


class BackgroundEmulator:
    def __init__(self, **kwargs: Any) -> None:
        """Takes `DiscordEmulator`'s keyword arguments."""
        self.emulator = DiscordEmulator(**kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="discord-emulator", daemon=True)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        self._thread.start()
        self._submit(self.emulator.start(host, port)).result(CALL_TIMEOUT)
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._submit(self.emulator.stop()).result(CALL_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_TIMEOUT)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(emulator, *args, **kwargs)` on the emulator's loop (awaited if it is a coroutine)."""
        return self._submit(self._apply(fn, args, kwargs)).result(CALL_TIMEOUT)

    async def acall(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`call` for code on another event loop: awaits instead of blocking it."""
        return await asyncio.wrap_future(self._submit(self._apply(fn, args, kwargs)))

    async def _apply(self, fn: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> Any:
        result = fn(self.emulator, *args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    def wait_for(
        self, predicate: Callable[[DiscordEmulator], T | None], timeout: float = 10.0, interval: float = 0.02
    ) -> T:
        """Polls `predicate(emulator)` on the loop until it returns something truthy, and returns that.

        A LookupError (KeyError, IndexError) from the predicate counts as "not yet": what it looks
        for may not exist so far."""

        async def poll() -> T:
            deadline = self._loop.time() + timeout
            while True:
                try:
                    value: object = predicate(self.emulator)
                except LookupError as error:
                    value = error
                else:
                    if value:
                        return value  # type: ignore[return-value]
                if self._loop.time() > deadline:
                    raise TimeoutError(self._describe_timeout(predicate, value, timeout))
                await asyncio.sleep(interval)

        return self._submit(poll()).result(timeout + CALL_TIMEOUT)

    def wait_acknowledged(self, interaction: Interaction, timeout: float = 3.0) -> None:
        """Waits until the bot answers the interaction's callback (TimeoutError if it does not)."""
        self.call(lambda emulator: interaction.wait_acknowledged(timeout))

    def slash(self, name: str, options: dict[str, object] | None = None, **kwargs: Any) -> Interaction:
        return self.call(DiscordEmulator.slash, name, options, **kwargs)

    def click(self, message_id: int, custom_id: str, **kwargs: Any) -> Interaction:
        return self.call(DiscordEmulator.click, message_id, custom_id, **kwargs)

    def choose(self, message_id: int, custom_id: str, values: Sequence[str], **kwargs: Any) -> Interaction:
        return self.call(DiscordEmulator.choose, message_id, custom_id, values, **kwargs)

    def submit_modal(
        self, opener: Interaction, values: Mapping[str, Value] | None = None, **kwargs: Any
    ) -> Interaction:
        return self.call(DiscordEmulator.submit_modal, opener, values, **kwargs)

    def cancel_modal(self, opener: Interaction, **kwargs: Any) -> None:
        self.call(DiscordEmulator.cancel_modal, opener, **kwargs)

    def add_channel(self, name: str, *, nsfw: bool = False) -> int:
        return self.call(DiscordEmulator.add_channel, name, nsfw=nsfw)

    def dm_channel_id(self, user_id: int) -> int | None:
        return self.call(DiscordEmulator.dm_channel_id, user_id)

    def open_dm(self, user_id: int) -> int:
        return self.call(DiscordEmulator.open_dm, user_id)

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        return self.call(DiscordEmulator.messages, channel_id)

    def message(self, message_id: int) -> dict[str, Any]:
        return self.call(DiscordEmulator.message, message_id)

    def summaries(self, channel_id: int) -> list[dict[str, Any]]:
        return self.call(DiscordEmulator.summaries, channel_id)

    def fail_next(self, method: str, path_pattern: str, status: int, **kwargs: Any) -> None:
        self.call(DiscordEmulator.fail_next, method, path_pattern, status, **kwargs)

    def expire_token(self, token: str) -> None:
        self.call(DiscordEmulator.expire_token, token)

    def reconnect(self) -> None:
        self.call(DiscordEmulator.reconnect)

    def invalidate_session(self, resumable: bool) -> None:
        self.call(DiscordEmulator.invalidate_session, resumable)

    def drop_connections(self) -> None:
        self.call(DiscordEmulator.drop_connections)

    @property
    def api_base(self) -> str:
        return self.emulator.api_base

    @property
    def gateway_url(self) -> str:
        return self.emulator.gateway_url

    @property
    def token(self) -> str:
        return self.emulator.token

    @property
    def violations(self) -> list[SpecViolation]:
        return self.call(lambda emulator: list(emulator.violations))

    def _submit(self, coroutine: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()

    def _describe_timeout(self, predicate: Callable[..., Any], value: object, timeout: float) -> str:
        try:
            source = inspect.getsource(predicate).strip()
        except (OSError, TypeError):
            source = getattr(predicate, "__qualname__", repr(predicate))
        recent = [f"{r['method']} {r['path']} → {r['status']}" for r in self.emulator.requests[-8:]]
        return (
            f"waited {timeout}s for {source}\n  last value: {value!r}\n  recent requests: {recent}\n"
            f"  violations: {[str(v) for v in self.emulator.violations]}"
        )
