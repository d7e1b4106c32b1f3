"""Suite-wide: every log record of the run (every xdist worker, and every live server a test
starts) is written to one folder, and at the end the whole of it is searched for ID numbers
and mobile numbers. Finding one fails the run: logs must never carry personal data.

The folder is CHUNYUN_TEST_LOG_DIR (made fresh per run unless set); servers started by tests
write their output there too (tests/api/live.py).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

import pytest

from optimizer.identity import id_check_char

LOG_DIR_VARIABLE = "CHUNYUN_TEST_LOG_DIR"
_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# pytest-timeout's limit for a `slow` solve that sets none of its own (the default suite's is
# `timeout` in pyproject.toml).
SLOW_TIMEOUT_S = 3600


def log_dir() -> Path:
    """The folder this run's logs go to."""
    return Path(os.environ[LOG_DIR_VARIABLE])


def personal_data_in(text: str) -> list[str]:
    """ID numbers (valid GB 11643 check digit) and mainland mobile numbers found in `text`."""
    found = [m for m in _ID_CANDIDATE.findall(text) if id_check_char(m[:17]) == m[17].upper()]
    found += _MOBILE.findall(text)
    return found


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and LOG_DIR_VARIABLE not in os.environ:
        # The controller makes the folder before xdist starts workers, which inherit the variable.
        os.environ[LOG_DIR_VARIABLE] = tempfile.mkdtemp(prefix="chunyun-test-logs-")
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    handler = logging.FileHandler(log_dir() / f"pytest-{worker}.log", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    # INFO is what `chunyun serve` logs at; the search must see at least that much.
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("timeout"):
        return  # pytest-timeout not installed (an older environment): no limits at all
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_S))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # the controller searches every worker's file once all have finished
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = hits = 0
    offenders: list[str] = []
    for path in sorted(log_dir().glob("*.log")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            lines += 1
            found = personal_data_in(line)
            if found:
                hits += len(found)
                offenders.append(f"{path.name}: {line[:300]}")
    session.config.stash[_summary_key] = (lines, hits, offenders)
    if hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_summary_key = pytest.StashKey[tuple[int, int, list[str]]]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    summary = terminalreporter.config.stash.get(_summary_key, None)
    if summary is None:
        return
    lines, hits, offenders = summary
    if not hits:
        terminalreporter.write_line(
            f"log search: {lines} log lines of the whole run, no ID numbers or phones ({log_dir()})"
        )
        return
    terminalreporter.write_sep("=", "personal data in the logs", red=True)
    for offender in offenders[:50]:
        terminalreporter.write_line(offender)
    terminalreporter.write_line(f"{hits} ID or phone number(s) in {lines} log lines")


@pytest.fixture
def english_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line in English (its default is Chinese): for tests that read its output."""
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
