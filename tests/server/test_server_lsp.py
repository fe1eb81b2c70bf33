"""End to end: the real server over stdio (`python -m tracecot.server serve`), driven by
pytest-lsp with VS Code's client capabilities."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from support import lsp as H

pytestmark = pytest.mark.asyncio(loop_scope="module")

EX = textwrap.dedent('''\
    def histogram(nums):
        """Count each value.

        >>> histogram([1, 1, 3])
        [(2, 1), (2, 1), (1, 3)]
        """
        output = []
        for n in nums:
            output.append((nums.count(n), n))
        output.sort(reverse=True)
        return output


    def add(a, b):
        """
        >>> add(1, 2)
        4
        """
        return a + b


    def total(n):
        t = 0
        for v in range(n):
            t += v
        return t


    def forever(x):
        while True:
            x += 1


    def no_inputs(s):
        return s.upper()


    assert total(5) == 10
    ''')

TEST_FILE = ("from ex import histogram\n\n"
             "def test_h():\n    assert histogram([4, 4]) == [(2, 4), (2, 4)]\n")

HOSTILE = textwrap.dedent('''\
    import os, signal, sys


    def write_fd1(n):
        os.write(1, b'Content-Length: 40\\r\\n\\r\\n{"jsonrpc": "2.0", "method": "exit"}')
        print("hello" * n)
        sys.__stdout__.write("raw stdout\\n")
        return n


    def kill_parent(n):
        os.kill(os.getppid(), signal.SIGKILL)
        return n


    def memory(n):
        x = bytearray(10 ** 10)
        return n


    def recurse(n):
        return recurse(n + 1)


    def fork_many(n):
        for _ in range(50):
            os.fork()
        return n


    def huge(n):
        return "x" * (10 ** 8)


    assert write_fd1(1) == 1
    assert kill_parent(1) == 1
    assert memory(1) == 1
    assert recurse(1) == 1
    assert fork_many(1) == 1
    assert huge(1) == 1
    ''')


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    (root / "ex.py").write_text(EX)
    (root / "tests").mkdir()
    (root / "tests" / "test_ex.py").write_text(TEST_FILE)
    (root / "hostile.py").write_text(HOSTILE)
    (root / "broken.py").write_text("def f(x:\n    return x\n")
    return root


CONFIG = ClientServerConfig(server_command=H.SERVER_COMMAND)


@pytest_lsp.fixture(scope="module", config=CONFIG)
async def client(lsp_client: LanguageClient, workspace):
    lsp_client.init_result = await H.start_session(lsp_client, workspace)
    lsp_client.ex_uri = H.open_doc(lsp_client, workspace / "ex.py")
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(scope="module", config=CONFIG)
async def untrusted(lsp_client: LanguageClient, workspace):
    await H.start_session(lsp_client, workspace, trusted=False)
    yield
    await lsp_client.shutdown_session()


def _line(needle: str, text: str = EX) -> int:
    return H.line_of(text, needle)


async def _wait(pred, timeout=10.0):
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if pred():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_capabilities_and_status(client: LanguageClient):
    caps = client.init_result.capabilities
    assert list(caps.execute_command_provider.commands) == [
        "tracecot.server.explainRun", "tracecot.server.findInput",
        "tracecot.server.predictOutput", "tracecot.server.debugRun"]
    assert caps.hover_provider and caps.code_lens_provider.resolve_provider
    assert caps.inlay_hint_provider and caps.code_action_provider
    assert await _wait(lambda: any(s["state"] == "ready" for s in client.statuses))


async def test_hover_on_a_function_shows_the_verified_run(client: LanguageClient):
    md = await H.hover(client, client.ex_uri, 0, 6)
    assert md.startswith("**tracecot** · `histogram([1, 1, 3])` → `[(2, 1), (2, 1), (1, 3)]`")
    assert "✓ verified" in md and "doctest on line 4" in md and "✓ as expected" in md
    assert "✓" in md.split("\n\n", 2)[2]          # the narrative's steps carry marks
    md_def = await H.hover(client, client.ex_uri, 0, 1)   # on `def`
    assert md_def == md


async def test_hover_on_a_variable_shows_its_history(client: LanguageClient):
    line = _line("output.append")
    md = await H.hover(client, client.ex_uri, line, 9)
    assert "`output` in `histogram([1, 1, 3])`" in md and "changed in place" in md
    md = await H.hover(client, client.ex_uri, _line("for n in nums"), 8)
    assert "`n`" in md and "iteration 3" in md
    # a parameter on the def line
    md = await H.hover(client, client.ex_uri, _line("def total"), 10)
    assert "`n` in `total(5)`" in md
    assert await H.hover(client, client.ex_uri, _line("assert total"), 3) is None   # outside


async def test_code_lens_and_resolve(client: LanguageClient):
    lenses = await client.text_document_code_lens_async(
        T.CodeLensParams(T.TextDocumentIdentifier(client.ex_uri)))
    unresolved = [lens for lens in lenses if lens.command is None]
    titles = [lens.command.title for lens in lenses if lens.command]
    assert titles.count("Explain run") == 5 and titles.count("Find input…") == 5
    # run lenses only for functions with known inputs (no_inputs has none; forever neither)
    assert [lens.range.start.line for lens in unresolved] == \
        [0, _line("def add"), _line("def total")]
    resolved = [await client.code_lens_resolve_async(lens) for lens in unresolved]
    assert resolved[0].command.title == "▶ histogram([1, 1, 3]) → [(2, 1), (2, 1), (1, 3)] ✓"
    assert resolved[0].command.command == "tracecot.server.explainRun"
    assert resolved[0].command.arguments[0]["args"] == "[1, 1, 3]"
    assert resolved[1].command.title == "▶ add(1, 2) → 3 ✗ expected 4"
    assert resolved[2].command.title.startswith("▶ total(5) → 10")


async def test_inlay_hints_and_their_setting(client: LanguageClient):
    params = T.InlayHintParams(T.TextDocumentIdentifier(client.ex_uri),
                               T.Range(T.Position(0, 0), T.Position(40, 0)))
    hints = await client.text_document_inlay_hint_async(params)
    by_line = {h.position.line: h.label.strip() for h in hints}
    assert by_line[_line("for n in nums")] == "n = 3 (×3)"
    assert by_line[_line("t += v")] == "t = 10 (×4)"
    assert by_line[_line("    return t")] == "→ 10"
    for h in hints:
        assert h.position.character == len(EX.splitlines()[h.position.line])
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"tracecot": H.settings(inlayHints={"enabled": False})}))
    assert await _wait(lambda: False, 0.2) is False
    assert not await client.text_document_inlay_hint_async(params)
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"tracecot": H.settings()}))
    await asyncio.sleep(0.2)
    assert len(await client.text_document_inlay_hint_async(params)) == len(hints)


async def test_wrong_doctest_gets_a_diagnostic_and_quick_fixes(client: LanguageClient):
    uri = client.ex_uri
    assert await _wait(lambda: uri in client.diagnostics)
    diags = client.diagnostics[uri]
    assert [d.message for d in diags] == ["tracecot: add(1, 2) returns 3, not 4"]
    d = diags[0]
    assert d.range.start.line == _line(">>> add(1, 2)") + 1 and d.source == "tracecot"
    actions = await client.text_document_code_action_async(T.CodeActionParams(
        T.TextDocumentIdentifier(uri), d.range, T.CodeActionContext(diagnostics=[d])))
    fix = actions[0]
    assert fix.title == "Update the expected value to 3"
    edit = fix.edit.changes[uri][0]
    assert edit.new_text == "3" and edit.range == d.range
    insert = [a for a in actions if a.title.startswith("Insert verified assert")]
    assert insert and insert[0].edit.changes[uri][0].new_text.strip() == "assert add(1, 2) == 3"
    assert insert[0].edit.changes[uri][0].range.start.line == _line("return a + b") + 1


async def test_explain_run(client: LanguageClient):
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.ex_uri, "function": "total", "args": "3"})
    assert got["title"] == "total(3) → 3" and got["verified"] is True
    assert got["function"] == "total" and got["args"] == "3" and got["runId"]
    assert "✓" in got["markdown"]
    lines = EX.splitlines()
    for step in got["steps"]:
        assert set(step) == {"index", "line", "text", "verified", "depth"}
        if step["line"] >= 0 and "Line " in step["text"]:
            # the narrator's 1-based "Line N" is our 0-based line N-1
            n = int(step["text"].split("Line ", 1)[1].split(":")[0])
            assert step["line"] == n - 1 and lines[n - 1].strip()
    again = await H.command(client, "tracecot.server.explainRun",
                            {"uri": client.ex_uri, "runId": got["runId"]})
    assert again["args"] == "3"
    # the run is now the selected one: lenses and hints follow it
    hints = await client.text_document_inlay_hint_async(T.InlayHintParams(
        T.TextDocumentIdentifier(client.ex_uri), T.Range(T.Position(0, 0), T.Position(40, 0))))
    assert {h.position.line: h.label.strip() for h in hints}[_line("    return t")] == "→ 3"
    runs = json.loads((Path(client.ex_uri[7:]).parent / ".tracecot" / "runs.json").read_text())
    assert runs["runs"]["ex.py"]["total"][0] == "3"


async def test_explain_asks_for_arguments(client: LanguageClient):
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.ex_uri, "line": _line("output = []")})
    assert got["needsArgs"] is True and got["function"] == "histogram"
    assert got["suggestions"][:2] == ["[1, 1, 3]", "[4, 4]"]     # doctest, then the tests
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.ex_uri, "function": "histogram",
                           "args": "histogram([2, 2])"})      # a whole call is fine too
    assert got["title"].startswith("histogram([2, 2]) → [(2, 2), (2, 2)]")


@pytest.mark.parametrize("args,error", [
    ({}, "uri"),
    ({"uri": "file:///nowhere/x.py", "function": "f", "args": "1"}, "cannot read"),
    ({"uri": "EX", "function": "nope", "args": "1"}, "no function 'nope'"),
    ({"uri": "EX", "line": 37}, "put the cursor inside a function"),
    ({"uri": "EX", "function": "total", "args": "1,,"}, "not valid Python"),
    ({"uri": "EX", "function": "total", "args": "'a'"}, "raises TypeError"),
    ({"uri": "EX", "function": "forever", "args": "1"}, "infinite loop"),
])
async def test_explain_errors_are_answers(client: LanguageClient, args, error):
    if args.get("uri") == "EX":
        args = {**args, "uri": client.ex_uri}
    got = await H.command(client, "tracecot.server.explainRun", args)
    if "raises" in error:      # an exception of the user's code is a run, explained
        assert got["title"].startswith("total('a') ⇒ raises TypeError")
    else:
        assert error in got["error"]


async def test_find_input_with_progress(client: LanguageClient):
    before = set(client.progress_reports)
    got = await H.command(client, "tracecot.server.findInput",
                          {"uri": client.ex_uri, "function": "total", "target": "45"})
    assert got["inputs"] and all(i["verified"] for i in got["inputs"])
    assert got["inputs"][0]["args"] == "10" and got["inputs"][0]["result"] == "45"
    assert got["assertText"] == "assert total(10) == 45"
    assert got["insertLine"] == _line("    return t") + 1 and got["function"] == "total"
    # the ready edit the client applies as it is
    edit = got["edit"]
    assert edit["range"]["start"]["line"] == got["insertLine"] == edit["range"]["end"]["line"]
    assert edit["newText"].strip() == got["assertText"] and got["inputs"][0]["edit"] == edit
    # ... or a test with every input found, which passes under pytest
    assert got["testPath"] == str(Path(client.ex_uri[7:]).parent / "tests" / "test_ex.py")
    assert got["testText"].startswith("from ex import total\n\n\ndef test_total_gives_45():\n")
    assert all(f"    {i['assertText']}\n" in got["testText"] for i in got["inputs"])
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "ex.py").write_text(EX)
        (Path(tmp) / "test_found.py").write_text(got["testText"])
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              "test_found.py"], cwd=tmp, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0 and "1 passed" in out.stdout, out.stdout + out.stderr
    tokens = set(client.progress_reports) - before
    assert len(tokens) == 1
    kinds = [r.kind for r in client.progress_reports[tokens.pop()]]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    # with the request's own token
    client.progress_reports["mine"] = []
    got = await asyncio.wait_for(client.workspace_execute_command_async(T.ExecuteCommandParams(
        command="tracecot.server.findInput", work_done_token="mine",
        arguments=[{"uri": client.ex_uri, "function": "no_inputs", "target": "'AB'"}])), 30)
    assert got["inputs"][0]["result"] == "'AB'"
    assert [r.kind for r in client.progress_reports["mine"]][0] == "begin"
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"tracecot": H.settings(inputFinder={"budget": 1})}))
    await asyncio.sleep(0.1)
    impossible = await H.command(client, "tracecot.server.findInput",
                                 {"uri": client.ex_uri, "function": "total", "target": "-1"})
    assert impossible["inputs"] == [] and "no input found" in impossible["message"]
    assert "within 1 s" in impossible["message"]     # stopped by the budget
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"tracecot": H.settings()}))
    bad = await H.command(client, "tracecot.server.findInput",
                          {"uri": client.ex_uri, "function": "total", "target": "1 +"})
    assert "not a Python expression" in bad["error"]


async def test_predict_output_without_model(client: LanguageClient):
    got = await H.command(client, "tracecot.server.predictOutput",
                          {"uri": client.ex_uri, "function": "total", "args": "3"})
    assert got["error"].startswith("model not available")


async def test_debug_run_writes_a_launcher(client: LanguageClient, workspace):
    got = await H.command(client, "tracecot.server.debugRun",
                          {"uri": client.ex_uri, "function": "histogram", "args": "[1, 1, 3]"})
    assert got["program"] == str(workspace / ".tracecot" / "debug_launcher.py")
    assert got["args"] == [str(workspace / "ex.py"), "histogram", "[1, 1, 3]"]
    assert got["cwd"] == str(workspace)
    out = subprocess.run([sys.executable, got["program"], *got["args"]], cwd=got["cwd"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "returned [(2, 1), (2, 1), (1, 3)]" in out.stdout


async def test_cancel_frees_the_sandbox(client: LanguageClient):
    """$/cancelRequest on a command running an endless loop kills its run: the sandbox has no
    run left within 0.5 s of the cancel (the issue's bound; it typically takes a few tens of
    milliseconds, and the check below scans /proc once per poll to keep its own cost low)."""
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"tracecot": H.settings(run={"timeout": 30, "stepCap": 10 ** 12})}))
    await asyncio.sleep(0.1)
    server_pid = client._server.pid
    fut = client.protocol.send_request(T.WORKSPACE_EXECUTE_COMMAND, T.ExecuteCommandParams(
        command="tracecot.server.explainRun",
        arguments=[{"uri": client.ex_uri, "function": "forever", "args": "7"}]),
        msg_id="cancel-me")

    def runs():
        """Processes below the server's direct children (its fork servers): the runs."""
        tree = _process_tree()
        out, todo = [], [c for fs in tree.get(server_pid, []) for c in tree.get(fs, [])]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(tree.get(p, []))
        return out
    assert await _wait(lambda: len(runs()) > 0, 10)
    await asyncio.sleep(0.2)
    assert runs(), "the endless loop stopped by itself"
    t = time.monotonic()
    client.protocol.notify(T.CANCEL_REQUEST, T.CancelParams(id="cancel-me"))
    freed = None
    while time.monotonic() - t < 5:
        if not runs():
            freed = time.monotonic() - t
            break
        await asyncio.sleep(0.02)
    assert freed is not None, f"sandbox still running {runs()}"
    print(f"\ncancelled run freed after {freed * 1000:.0f} ms")
    assert freed <= 0.5
    with pytest.raises(Exception) as err:
        await asyncio.wait_for(asyncio.wrap_future(fut), 5)
    assert "cancel" in str(err.value).lower()
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"tracecot": H.settings()}))
    await asyncio.sleep(0.1)


def _process_tree() -> dict[int, list[int]]:
    """parent pid -> child pids, from one pass over /proc; dead processes not yet reaped by
    their parent (zombies: killed, using nothing) are left out."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read().decode(errors="replace")
                fields = stat.rsplit(")", 1)[1].split()
                if fields[0] not in ("Z", "X"):
                    tree.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return tree


async def test_syntax_error_document(client: LanguageClient, workspace):
    uri = H.open_doc(client, workspace / "broken.py")
    md = await H.hover(client, uri, 0, 4)
    assert "syntax error at line 1" in md
    assert await H.hover(client, uri, 1, 6) is None
    assert not await client.text_document_code_lens_async(
        T.CodeLensParams(T.TextDocumentIdentifier(uri)))
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": uri, "function": "f", "args": "1"})
    assert "syntax error at line 1" in got["error"]
    assert not await client.text_document_inlay_hint_async(T.InlayHintParams(
        T.TextDocumentIdentifier(uri), T.Range(T.Position(0, 0), T.Position(5, 0))))


async def test_hostile_code_leaves_the_server_up(client: LanguageClient, workspace):
    uri = H.open_doc(client, workspace / "hostile.py")
    for name in ("write_fd1", "kill_parent", "memory", "recurse", "fork_many", "huge"):
        line = _line(f"def {name}", HOSTILE)
        md = await H.hover(client, uri, line, 5, timeout=30)
        assert md is not None and f"{name}(1)" in md, (name, md)
        got = await H.command(client, "tracecot.server.explainRun",
                              {"uri": uri, "function": name, "args": "2"}, timeout=30)
        assert "title" in got or "error" in got
    md = await H.hover(client, client.ex_uri, 0, 6)
    assert "histogram([1, 1, 3])" in md and client.error is None


async def test_editing_refreshes_diagnostics_and_lenses(client: LanguageClient, workspace):
    fixed = EX.replace("return a + b", "return a + b + 1")
    lens_before = client.refreshes["lens"]
    H.change_doc(client, client.ex_uri, fixed, 2)
    assert await _wait(lambda: client.diagnostics.get(client.ex_uri) in ([], ()), 5)
    assert await _wait(lambda: client.refreshes["lens"] > lens_before, 5)
    md = await H.hover(client, client.ex_uri, _line("def add"), 5)
    assert "`add(1, 2)` → `4`" in md and "✓ as expected" in md
    H.change_doc(client, client.ex_uri, "def broken(:\n", 3)
    assert "syntax error" in await H.hover(client, client.ex_uri, 0, 5)
    H.change_doc(client, client.ex_uri, EX, 4)


async def test_untrusted_workspace_runs_nothing(untrusted: LanguageClient, workspace):
    uri = H.open_doc(untrusted, workspace / "ex.py")
    md = await H.hover(untrusted, uri, 0, 6)
    assert "does not run code in an untrusted workspace" in md
    assert not await untrusted.text_document_code_lens_async(
        T.CodeLensParams(T.TextDocumentIdentifier(uri)))
    got = await H.command(untrusted, "tracecot.server.explainRun",
                          {"uri": uri, "function": "total", "args": "3"})
    assert "untrusted" in got["error"]
    assert H.descendants(untrusted._server.pid) == []       # no sandbox was even started
    untrusted.protocol.notify("tracecot/trustChanged", {"trusted": True})
    await asyncio.sleep(0.1)
    md = await H.hover(untrusted, uri, 0, 6)
    assert md.startswith("**tracecot** · `histogram(") and "✓ verified" in md


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lsp_message(obj: dict) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.filterwarnings("ignore")
def test_serve_with_debugpy():
    """`tracecot serve --debugpy PORT`: a debugger can attach to the server itself, and the
    LSP stream on stdout stays clean."""
    port = _free_port()
    proc = subprocess.Popen([*H.SERVER_COMMAND, "--debugpy", str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        dap = _Dap(port)
        dap.request("initialize", clientID="t", adapterID="debugpy")
        proc.stdin.write(_lsp_message({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                       "params": {"capabilities": {}, "processId": None}}))
        proc.stdin.write(_lsp_message({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        proc.stdin.write(_lsp_message({"jsonrpc": "2.0", "method": "exit"}))
        proc.stdin.flush()
        dap.sock.close()
        out, _ = proc.communicate(timeout=60)
        # nothing but LSP messages on stdout
        rest, answers = out, []
        while rest:
            head, sep, rest = rest.partition(b"\r\n\r\n")
            assert sep and head.startswith(b"Content-Length: "), out[:300]
            n = int(head.split(b"\r\n")[0].split(b":")[1])
            answers.append(json.loads(rest[:n]))
            rest = rest[n:]
        assert [a.get("id") for a in answers if "id" in a] == [1, 2]
        assert "tracecot.server.explainRun" in json.dumps(answers[0])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.filterwarnings("ignore")
def test_serve_options(tmp_path):
    env = {**os.environ, "PYTHONPATH": ""}
    try:
        import debugpy  # noqa: F401 - only whether it is installed
    except ImportError:
        out = subprocess.run([*H.SERVER_COMMAND, "--debugpy", "5999"], capture_output=True,
                             text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
        assert out.returncode == 2 and "needs the debugpy package" in out.stderr
        assert out.stdout == ""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*H.SERVER_COMMAND, "--tcp", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                           "params": {"capabilities": {}, "processId": None}}).encode()
        conn.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        data = b""
        while b"executeCommandProvider" not in data:
            chunk = conn.recv(65536)
            assert chunk
            data += chunk
        assert b"tracecot.server.explainRun" in data
        conn.close()
    finally:
        proc.kill()
        proc.wait()


class _Dap:
    """A minimal Debug Adapter Protocol client (what VS Code's debugger UI does)."""

    def __init__(self, port: int):
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline, "debugpy never listened"
                time.sleep(0.1)
        self.buf, self.seq, self.pending = b"", 0, []

    def send(self, command: str, **arguments) -> int:
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command,
                           "arguments": arguments}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def _read(self) -> dict:
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            assert chunk, "debugpy closed the connection"
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        length = int(head.split(b":")[1])
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            assert chunk, "debugpy closed the connection"
            rest += chunk
        self.buf = rest[length:]
        return json.loads(rest[:length])

    def wait(self, pred) -> dict:
        for i, msg in enumerate(self.pending):
            if pred(msg):
                return self.pending.pop(i)
        while True:
            msg = self._read()
            if pred(msg):
                return msg
            self.pending.append(msg)

    def request(self, command: str, **arguments) -> dict:
        seq = self.send(command, **arguments)
        got = self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq)
        assert got["success"], got
        return got.get("body") or {}

    def event(self, name: str) -> dict:
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name)


async def test_debug_run_stops_in_exactly_this_run(client: LanguageClient, workspace):
    """The configuration debugRun answers, launched under debugpy as VS Code's Python debugger
    does, stops on a breakpoint in the function with the run's arguments."""
    got = await H.command(client, "tracecot.server.debugRun",
                          {"uri": client.ex_uri, "function": "total", "args": "4"})
    config = got["configuration"]
    assert config["type"] == "debugpy" and config["request"] == "launch"
    assert (config["program"], config["args"], config["cwd"]) == (
        got["program"], got["args"], got["cwd"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "debugpy", "--listen", f"127.0.0.1:{port}",
                             "--wait-for-client", config["program"], *config["args"]],
                            cwd=config["cwd"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        dap = await asyncio.to_thread(_Dap, port)
        path = str(workspace / "ex.py")
        body_line = _line("    t = 0") + 1            # DAP lines are 1-based

        def session():
            dap.request("initialize", clientID="tracecot-test", adapterID="debugpy",
                        linesStartAt1=True, columnsStartAt1=True, pathFormat="path")
            attach = dap.send("attach", justMyCode=True)
            dap.event("initialized")
            bps = dap.request("setBreakpoints", source={"path": path},
                              breakpoints=[{"line": body_line}])
            assert bps["breakpoints"][0]["verified"], bps
            dap.request("configurationDone")
            dap.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == attach)
            while True:                 # the launcher stops once before the call; go on
                stopped = dap.event("stopped")["body"]
                tid = stopped["threadId"]
                frame = dap.request("stackTrace", threadId=tid, levels=1)["stackFrames"][0]
                if frame["source"].get("path") == path:
                    break
                dap.request("continue", threadId=tid)
            scopes = dap.request("scopes", frameId=frame["id"])["scopes"]
            local = dap.request("variables", variablesReference=scopes[0]["variablesReference"])
            values = {v["name"]: v["value"] for v in local["variables"]}
            dap.request("continue", threadId=tid)
            dap.request("disconnect", terminateDebuggee=False)
            return frame, values
        frame, values = await asyncio.wait_for(asyncio.to_thread(session), 60)
        assert frame["name"] == "total" and frame["line"] == body_line
        assert values.get("n") == "4"
        out, err = await asyncio.to_thread(proc.communicate, timeout=30)
        assert proc.returncode == 0, err
        assert "total(4) returned 6" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_unsaved_changes_are_not_debugged(client: LanguageClient, workspace):
    H.change_doc(client, client.ex_uri, EX.replace("t += v", "t += 2 * v"), 50)
    got = await H.command(client, "tracecot.server.debugRun",
                          {"uri": client.ex_uri, "function": "total", "args": "4"})
    assert "save the file first" in got["error"]
    H.change_doc(client, client.ex_uri, EX, 51)
