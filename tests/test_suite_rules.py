"""The suite's own rule (tests/conftest.py): nothing is skipped for something missing."""

from pathlib import Path

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()


def _suite(pytester, **modules):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(**modules)
    return pytester.runpytest_subprocess("-q", "-ra", "-p", "no:cacheprovider")


def test_a_module_skipped_for_a_missing_package_fails_the_run(pytester):
    result = _suite(pytester, test_gone='import pytest\npytest.importorskip("no_such_pkg_xq")\n'
                                         'def test_x():\n    pass\n',
                    test_ok="def test_y():\n    pass\n")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*module skipped as a whole*test_gone.py*no_such_pkg_xq*"])


def test_an_unmarked_skip_fails_and_a_machine_skip_is_reported(pytester):
    result = _suite(pytester, test_skips=(
        "import pytest\n"
        "def test_data():\n    pytest.skip('data file missing')\n"
        "@pytest.mark.machine\n"
        "def test_other_python():\n    pytest.skip('no Python 3.13 here')\n"))
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*only tests marked `machine` may skip*",
                                 "SKIPPED*no Python 3.13 here*"])


def test_a_core_test_may_never_skip(pytester):
    result = _suite(pytester, test_core=(
        "import pytest\n"
        "@pytest.mark.core\n@pytest.mark.machine\n"
        "def test_claim():\n    pytest.skip('dataset not found')\n"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*it is a core test, which must run everywhere*"])


def test_a_suite_that_runs_everything_passes(pytester):
    result = _suite(pytester, test_fine="def test_z():\n    assert 1 + 1 == 2\n")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
