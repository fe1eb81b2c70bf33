"""Fixtures shared by every suite, and the rule that no test is skipped for something missing.

Tests live by package (tests/tracer, tests/model, tests/server); their shared support is the
`support` package beside this file (this folder is on sys.path because it holds conftest.py).

Every dependency, data file and tool a test needs is part of the project (pyproject, package
data, the Makefile), so a skip because one is missing is a broken set-up, not a reason to pass:
a test module skipped as a whole, or a test skipped with no `machine` mark, fails the run.
Tests that genuinely depend on the machine (another Python version that may be absent) carry
`@pytest.mark.machine`; their skips are listed with the reason in the summary line, and a
`core` test is never allowed to skip, whatever its marks.
"""

from __future__ import annotations

import pytest

from tracecot.tracer import Sandbox

pytest_plugins = ["pytester"]     # tests/test_suite_rules.py runs small suites under these rules


def pytest_configure(config):
    config.addinivalue_line("markers", "core: proves a core claim of the project; never skipped")
    config.addinivalue_line("markers", "machine: depends on what this machine has (e.g. another "
                                       "Python version); may skip, and says why")


@pytest.fixture(scope="module")
def sandbox():
    """One fork server per test module (a module that breaks it cannot spoil another's)."""
    with Sandbox() as sb:
        yield sb


_SKIPPED_MODULES: list[tuple[str, str]] = []
_SKIPPED_TESTS: list[tuple[str, str]] = []


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def pytest_collectreport(report):
    if report.skipped and report.nodeid.endswith(".py"):
        _SKIPPED_MODULES.append((report.nodeid, _reason(report)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    core = item.get_closest_marker("core") is not None
    if core or item.get_closest_marker("machine") is None:
        _SKIPPED_TESTS.append((item.nodeid, _reason(report)))
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} was skipped ({_reason(report)}), but "
                           + ("it is a core test, which must run everywhere"
                              if core else "only tests marked `machine` may skip")
                           + ": install what it needs as part of the project")


def pytest_sessionfinish(session, exitstatus):
    if _SKIPPED_MODULES and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    for nodeid, why in _SKIPPED_MODULES:
        terminalreporter.write_line(f"FAILED (module skipped as a whole) {nodeid}: {why}",
                                    red=True)
