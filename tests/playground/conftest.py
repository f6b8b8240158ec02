"""Where the browser test leaves its screenshots, named at the end of the test run."""

from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).parents[2] / "test-output"
taken: list[Path] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for path in taken:
        terminalreporter.write_line(f"playground screenshot: {path}")
