"""Injected failures: the next matching requests get a rate limit or a server error, shaped as Discord's."""

import math
import re
import time
from dataclasses import dataclass

from emulator.responses import DiscordError, http_error

RATE_LIMITED = "You are being rate limited."


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int
    retry_after: float
    code: int | None
    is_global: bool

    def error(self) -> DiscordError:
        if self.status != 429:
            return http_error(self.status, self.code or 0)
        headers = {
            "Retry-After": str(math.ceil(self.retry_after)),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
            "X-RateLimit-Bucket": "emulated",
            "X-RateLimit-Scope": "global" if self.is_global else "user",
        }
        if self.is_global:
            headers["X-RateLimit-Global"] = "true"
        extra = {"retry_after": self.retry_after, "global": self.is_global}
        return DiscordError(429, self.code or 0, RATE_LIMITED, headers=headers, extra=extra)


class Faults:
    def __init__(self) -> None:
        self._pending: list[Fault] = []

    def add(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        count: int = 1,
        retry_after: float = 0.3,
        code: int | None = None,
        is_global: bool = False,
    ) -> None:
        fault = Fault(method.upper(), re.compile(path_pattern), status, count, retry_after, code, is_global)
        self._pending.append(fault)

    def take(self, method: str, path: str) -> DiscordError | None:
        """The error for this request when a pending fault matches it (the whole path, as `re.fullmatch`)."""
        for fault in self._pending:
            if fault.method == method and fault.pattern.fullmatch(path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._pending.remove(fault)
                return fault.error()
        return None
