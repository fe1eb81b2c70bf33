"""The `tracecot` command line: JSON out, clear messages and exit codes for bad input."""

import json
import subprocess
import sys

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


def test_syntax_error_names_the_file_the_line_and_the_place_once(tmp_path):
    f = tmp_path / "broken.py"
    f.write_text("def f(n):\n    for i in range(n)\n        pass\n")
    p = tracecot("run", f"{f}:f", "1")
    assert p.returncode == 3
    assert p.stderr.splitlines() == [
        f"tracecot: syntax error at line 2 of {f}: expected ':'",
        "    for i in range(n)",
        "                     ^"]


def test_unclosed_arguments_say_what_the_user_left_open():
    p = tracecot("run", f"{EXAMPLE}:histogram", "[1, 2")
    assert p.returncode == 3
    assert "'[' at column 1 is never closed" in p.stderr and "')'" not in p.stderr


def _on_a_terminal(*args):
    """`tracecot ARGS` with its stdout a terminal (a pseudo-terminal); (rc, stdout text)."""
    import os
    import pty
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "tracecot.server", *args], cwd=ROOT,
                                stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:          # the other end closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    finally:
        os.close(master)
    return proc.returncode, b"".join(chunks).decode()


def test_run_on_a_terminal_summarises_an_endless_loop(tmp_path):
    """An endless loop's trace is a megabyte of JSON: a terminal gets a summary; a pipe (and
    --json) still gets the JSON, --out FILE writes it there."""
    f = tmp_path / "spin.py"
    f.write_text("def spin(n):\n    while True:\n        n += 1\n")
    rc, out = _on_a_terminal("run", f"{f}:spin", "1", "--timeout", "0.5")
    assert rc == 3 and len(out) < 2000
    assert "spin(1) did not finish" in out and "--json prints it" in out
    assert "{" not in out
    rc, out = _on_a_terminal("run", f"{f}:spin", "1", "--timeout", "0.5", "--out",
                             str(tmp_path / "t.json"))
    assert rc == 3 and f"written to {tmp_path / 't.json'}" in out
    assert json.loads((tmp_path / "t.json").read_text())["status"] == "error"
    rc, out = _on_a_terminal("run", f"{f}:spin", "1", "--timeout", "0.5", "--json")
    assert json.loads(out)["error"]["kind"] == "timeout"
    p = tracecot("run", f"{f}:spin", "1", "--timeout", "0.5")
    assert p.returncode == 3 and json.loads(p.stdout)["truncated"] is True


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
