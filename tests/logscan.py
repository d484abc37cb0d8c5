"""A pytest plugin scanning every log line the suite emits for personal and secret data: NIPs,
JWTs, base64 or raw image data and embeddings (long float lists). A test during which such a line
was logged fails at teardown, naming the line. Under pytest-xdist each worker scans its own.

What is scanned is what is emitted: the hadir Powertools logger's records formatted by its own
formatter (the JSON line it writes to stdout), and every other record reaching the root logger
(message and exception text, what a plain handler writes). ``expect_leaks()`` lets the scanner's
own tests log bad lines on purpose.
"""
from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

PATTERNS: dict[str, re.Pattern[str]] = {
    "nip": re.compile(r"(?<!\d)(?:\d{18}|\d{8} \d{6} \d \d{3})(?!\d)"),
    "jwt": re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    "image": re.compile(r"/9j/[A-Za-z0-9+/]{8,}|iVBOR[A-Za-z0-9+/]{8,}|\\xff\\xd8\\xff|\\x89PNG"),
    "base64": re.compile(r"[A-Za-z0-9+/]{200,}={0,2}"),
    "embedding": re.compile(r"(?:-?\d+\.\d+(?:[eE][+-]?\d+)?[\s,]+){15,}-?\d+\.\d+"),
}


@dataclass(frozen=True)
class Leak:
    kind: str
    test: str
    logger: str
    line: str

    def __str__(self) -> str:
        return f"{self.kind} in a log line of {self.logger} during {self.test}: {self.line[:300]}"


def find(line: str) -> list[str]:
    """The kinds of data ``line`` leaks (empty: clean)."""
    return [kind for kind, p in PATTERNS.items() if p.search(line)]


class Scanner(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.test = "<session>"
        self.leaks: list[Leak] = []
        self.lines = 0
        self._plain = logging.Formatter("%(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self._line(record)
        except Exception as exc:  # noqa: BLE001 - a line that cannot be formatted is not emitted
            line = f"<unformattable: {exc!r}>"
        self.lines += 1
        self.leaks += [Leak(k, self.test, record.name, line) for k in find(line)]

    def _line(self, record: logging.LogRecord) -> str:
        from chalicelib.common.logs import logger
        if record.name == logger.name:
            return logger.registered_formatter.format(record)
        return self._plain.format(record)

    def take(self) -> list[Leak]:
        leaks, self.leaks = self.leaks, []
        return leaks


scanner = Scanner()


@contextlib.contextmanager
def expect_leaks() -> Iterator[list[Leak]]:
    """The leaks logged inside the block, taken out of the test's record (the scanner's tests)."""
    before = scanner.take()
    found: list[Leak] = []
    try:
        yield found
    finally:
        found += scanner.take()
        scanner.leaks = before


def pytest_configure(config: pytest.Config) -> None:
    """Scan every level the hadir logger has (DEBUG up, its stdout handler keeping the stage's
    level) and what reaches the root logger from INFO up (libraries' DEBUG is never on)."""
    from chalicelib.common.logs import logger
    stdout = logger.registered_handler
    stdout.setLevel(logger.log_level)
    logger.setLevel(logging.DEBUG)
    if not logger._logger.propagate:  # else its records reach the root's scanner
        logger.addHandler(scanner)
    root = logging.getLogger()
    root.addHandler(scanner)
    root.setLevel(min(root.level or logging.WARNING, logging.INFO))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    scanner.test = item.nodeid
    yield
    scanner.test = "<between tests>"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when == "teardown":
        leaks = scanner.take()
        if leaks and report.passed:
            report.outcome = "failed"
            report.longrepr = "personal or secret data logged:\n" + "\n".join(str(x) for x in leaks)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if scanner.lines:  # (under xdist the workers scan; the controller logs nothing)
        terminalreporter.write_line(f"log scan: {scanner.lines} log lines scanned")
