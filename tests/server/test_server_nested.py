"""Variables of nested functions on hover, and readable verified asserts for inputs rebuilt
from doctest sessions: parsing (pure) and the real server over stdio (pytest-lsp)."""

import subprocess
import sys
import textwrap

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from support import lsp as H
from tracecot.server.asserts import readable_assert, session_steps
from tracecot.server.document import Example
from tracecot.server.inputs import local_names, parse_document

SRC = textwrap.dedent('''\
    def outer(n):
        """
        >>> outer(2)
        [1, 3]
        """
        def inner(k):
            m = k * 2
            m += n - n + 1
            return m

        def unused(z):
            w = z + 1
            return w

        out = []
        for i in range(n):
            out.append(inner(i))
        return out


    def deep(n):
        """
        >>> deep(12)
        0
        """
        def bottom(x):
            y = x * 0
            return y

        if n == 0:
            return bottom(n)
        return deep(n - 1)


    class Stack:
        """A stack.

        >>> s = Stack()
        >>> s.push(1)
        >>> s.push(2)
        >>> s.pop()
        2
        >>> s.pop()
        1
        """

        def __init__(self):
            self.items = []

        def push(self, x):
            self.items.append(x)

        def pop(self):
            return self.items.pop()
    ''')

SESSION = "(lambda s: ((s.push(1)), (s.push(2)), s)[-1])(Stack())"
BLOCK = "s = Stack()\ns.push(1)\ns.push(2)\nassert s.pop() == 2"


def _line(needle: str) -> int:
    return H.line_of(SRC, needle)


# ---------------------------------------------------------------------- pure


def test_nested_defs_know_their_span_and_names():
    doc = parse_document(SRC)
    assert doc.nested_at(_line("m += n - n + 1")).name == "inner"
    assert doc.nested_at(_line("w = z + 1")).name == "unused"
    assert doc.nested_at(_line("out = []")) is None
    assert local_names(SRC, _line("def inner")) == {"k", "m"}


def test_session_inputs_become_statements():
    pop = parse_document(SRC).function("Stack.pop").examples[0]
    assert pop.receiver == SESSION
    assert session_steps(SESSION) == ("s", ["Stack()", "s.push(1)", "s.push(2)"])
    assert readable_assert(pop, "2", SRC) == BLOCK
    # other receivers, and names the module already uses, keep the one-expression form
    assert readable_assert(Example("Stack.pop", "", receiver="Stack()"), "2", SRC) == \
        "assert Stack().pop() == 2"
    assert readable_assert(pop, "2", SRC + "\ns = 3\n") == f"assert {SESSION}.pop() == 2"
    assert readable_assert(Example("Stack.push", "s", receiver=SESSION), "None", SRC) == \
        f"assert {SESSION}.push(s) == None"
    assert session_steps("(lambda s: ((t := s.pop()), s)[-1])(Stack())") is None
    assert session_steps("(lambda s: (s.push(1), s)[0])(Stack())") is None


# ---------------------------------------------------------------------- the server

CONFIG = ClientServerConfig(server_command=H.SERVER_COMMAND)
amod = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("nested")
    (root / "nest.py").write_text(SRC)
    return root


@pytest_lsp.fixture(scope="module", config=CONFIG)
async def client(lsp_client: LanguageClient, workspace):
    await H.start_session(lsp_client, workspace)
    lsp_client.uri = H.open_doc(lsp_client, workspace / "nest.py")
    yield
    await lsp_client.shutdown_session()


@amod
async def test_hover_on_a_variable_of_a_nested_function(client: LanguageClient):
    md = await H.hover(client, client.uri, _line("m += n - n + 1"), 8)
    assert md is not None, "no hover on a nested function's variable"
    assert md.startswith("**tracecot** · `m` in `inner`, in the run `outer(2)`: "
                         "`inner` called 2 times"), md
    assert "- inner call 1: `m` = `0` → `1`\n- inner call 2: `m` = `2` → `3`" in md, md
    md = await H.hover(client, client.uri, _line("def inner(k)"), 14)      # a parameter
    assert "- inner call 1: `k` = `0`\n- inner call 2: `k` = `1`" in md, md
    md = await H.hover(client, client.uri, _line("w = z + 1"), 8)
    assert md == "**tracecot** · `unused` was not called in the run `outer(2)`, so `w` " \
                 "has no value there.", md
    # the enclosing function's own variables are still its own, also read in `inner`
    md = await H.hover(client, client.uri, _line("m += n - n + 1"), 13)
    assert md is not None and md.startswith("**tracecot** · `n` in `outer(2)`"), md
    md = await H.hover(client, client.uri, _line("out = []"), 4)
    assert md.startswith("**tracecot** · `out` in `outer(2)`"), md


@amod
async def test_nested_calls_below_the_depth_limit_are_not_said_never_called(client: LanguageClient):
    # deep(12) calls bottom 13 levels down: it ran, but the tracer records 10 levels.
    md = await H.hover(client, client.uri, _line("def bottom(x)"), 9)
    assert md is not None and "In the run `deep(12)`, its lines ran 2 times, but none of its " \
        "calls was recorded: they were deeper than the tracer's depth limit." in md, md
    assert "did not call it" not in md, md
    md = await H.hover(client, client.uri, _line("y = x * 0"), 8)
    assert md == "**tracecot** · In the run `deep(12)`, `bottom` ran: its lines ran 2 times, " \
                 "but none of its calls was recorded: they were deeper than the tracer's " \
                 "depth limit.", md


@amod
async def test_quick_fix_for_a_session_input_is_readable_and_runs(client: LanguageClient,
                                                                 workspace):
    line = _line("return self.items.pop()")
    rng = T.Range(T.Position(line, 8), T.Position(line, 8))
    actions = await client.text_document_code_action_async(T.CodeActionParams(
        T.TextDocumentIdentifier(client.uri), rng, T.CodeActionContext(diagnostics=[])))
    insert = [a for a in actions if a.title.startswith("Insert verified assert")]
    assert insert, actions
    assert insert[0].title == "Insert verified assert: assert s.pop() == 2"
    edit = insert[0].edit.changes[client.uri][0]
    assert edit.new_text.strip() == BLOCK and "lambda" not in edit.new_text
    # the edited module runs, assert included
    lines = SRC.splitlines(keepends=True)
    at = edit.range.start.line
    edited = "".join(lines[:at]) + edit.new_text + "".join(lines[at:])
    out = subprocess.run([sys.executable, "-c", edited], capture_output=True, text=True,
                         timeout=30, cwd=workspace)
    assert out.returncode == 0, out.stderr


@amod
async def test_find_input_for_a_session_method_writes_statements(client: LanguageClient):
    got = await H.command(client, "tracecot.server.findInput",
                          {"uri": client.uri, "function": "Stack.pop", "target": "2"})
    assert got["inputs"], got
    assert got["inputs"][0]["assertText"] == BLOCK == got["assertText"]
    body = got["testText"].split("():\n", 1)[1]
    assert body == "".join(f"    {line}\n" for line in BLOCK.splitlines()), body
