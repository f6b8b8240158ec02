"""A one-line progress bar for a terminal, plain lines when the output is not one."""

from typing import TextIO

WIDTH = 24


class ProgressLine:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._last = ""

    def show(self, percent: int | None, status: str) -> None:
        if percent is None:
            text = status
        else:
            filled = WIDTH * percent // 100
            text = f"[{'#' * filled}{' ' * (WIDTH - filled)}] {percent:3d}%  {status}"
        if text == self._last:
            return
        self._last = text
        if self._live:
            self._stream.write(f"\r\033[K{text}")
        else:
            self._stream.write(f"{text}\n")
        self._stream.flush()

    def finish(self, percent: int | None, status: str) -> None:
        self.show(percent, status)
        if self._live:
            self._stream.write("\n")
            self._stream.flush()
