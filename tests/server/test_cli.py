"""The `tracecot` command line: JSON out, clear messages and exit codes for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import REPO as ROOT

EXAMPLE = str(ROOT / "examples" / "histogram.py")


def tracecot(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "tracecot.server", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def test_run_prints_the_trace_as_json():
    p = tracecot("run", f"{EXAMPLE}:histogram", "[1, 1, 3, 1, 2]")
    assert p.returncode == 0, p.stderr
    trace = json.loads(p.stdout)
    assert trace["status"] == "returned" and trace["version"] == 1
    assert trace["result"]["t"] == "list" and len(trace["result"]["items"]) == 3


@pytest.mark.parametrize("target, args, kind, words", [
    ("nothere.py:f", "", "file not found", "No such file"),
    (f"{EXAMPLE}:nope", "", "function not found", "functions there: histogram"),
    (f"{EXAMPLE}:histogram", "[1,", "bad arguments", "could not parse"),
    (f"{EXAMPLE}:histogram", "1, 2", "arity", "histogram(values)"),
])
def test_errors_are_clear_and_exit_3(target, args, kind, words):
    p = tracecot("run", target, args)
    assert p.returncode == 3
    assert p.stderr.startswith(f"tracecot: {kind}") and words in p.stderr


def test_syntax_error_names_the_line(tmp_path):
    f = tmp_path / "broken.py"
    f.write_text("def f(x):\n    return (x\n")
    p = tracecot("run", f"{f}:f", "1")
    assert p.returncode == 3 and "syntax error (line 2)" in p.stderr


def test_user_output_never_reaches_stdout_except_inside_the_json(tmp_path):
    f = tmp_path / "noisy.py"
    f.write_text("import os\ndef f(x):\n    print('hello')\n"
                 "    os.write(1, bytes([82, 65, 87]) * 3)\n    return x\n")
    p = tracecot("run", f"{f}:f", "1")
    assert p.returncode == 0
    trace = json.loads(p.stdout)                  # stdout is exactly one JSON document
    assert trace["stdout"] == "hello\n" and "RAWRAWRAW" not in p.stdout


def test_usage_errors_exit_2():
    assert tracecot("run", "no-colon-here").returncode == 2
    assert tracecot().returncode == 2
    assert tracecot("run", "--help").returncode == 0
