"""Methods, functions in `if` blocks, and defs tracecot cannot call: parsing (pure) and the
real server over stdio (pytest-lsp, VS Code's client capabilities)."""

import asyncio
import subprocess
import sys
import textwrap

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from support import lsp as H
from tracecot.server.calls import constructor_examples, examples_in_test_file
from tracecot.server.inputs import parse_document

SRC = textwrap.dedent('''\
    import sys


    class Stack:
        """A stack.

        >>> s = Stack()
        >>> s.push(1)
        >>> s.push(2)
        >>> s.pop()
        2
        >>> s.pop()
        5
        """

        def __init__(self, items=None):
            self.items = list(items or [])

        def push(self, x):
            """
            >>> Stack([1]).push(5)
            """
            self.items.append(x)

        def pop(self):
            item = self.items.pop()
            return item

        def peek(self):
            return self.items[-1]

        @classmethod
        def of(cls, *xs):
            return cls(xs)

        @staticmethod
        def twice(x):
            return 2 * x

        @property
        def top(self):
            return self.items[-1]


    class Account:
        def __init__(self, owner, balance):
            self.owner, self.balance = owner, balance

        def deposit(self, amount):
            self.balance += amount
            return self.balance

        def audit(self, limit):
            return self.balance > limit


    class P:
        def __init__(self, x, y=0):
            self.x, self.y = x, y

        def norm1(self):
            return abs(self.x) + abs(self.y)


    class Temp:
        """
        >>> t = Temp(20)
        >>> t.fahrenheit
        68.0
        """

        def __init__(self, celsius):
            self.celsius = celsius

        @property
        def fahrenheit(self):
            f = self.celsius * 9 / 5 + 32
            return f

        @fahrenheit.setter
        def fahrenheit(self, value):
            self.celsius = (value - 32) * 5 / 9

        def kelvin(self):
            return self.celsius + 273.15


    if sys.version_info >= (3, 0):
        def cond(n):
            def inner(k):
                return k * 10
            return inner(n) + 1


    async def co(x):
        return x


    assert Stack.of(1, 2).peek() == 2
    assert Stack.twice(3) == 6
    assert P(3, -4).norm1() == 7
    assert cond(1) == 11
    assert Account("ann", 10).deposit(5) == 15
    assert Temp(100).fahrenheit == 212.0
    ''')

TESTS = textwrap.dedent('''\
    import ex
    from ex import Stack


    def test_stack():
        assert Stack([7, 8]).peek() == 8
        ex.Stack().push(3)
        assert Stack([4]).top == 4
    ''')


def _line(needle: str, text: str = SRC) -> int:
    return H.line_of(text, needle)


# ---------------------------------------------------------------------- parsing (pure)


def test_methods_are_found_with_their_kind():
    doc = parse_document(SRC)
    kinds = {f.name: f.kind for f in doc.functions}
    assert kinds == {"Stack.push": "method", "Stack.pop": "method", "Stack.peek": "method",
                     "Stack.of": "class", "Stack.twice": "static", "Account.deposit": "method",
                     "Account.audit": "method", "P.norm1": "method", "cond": "function",
                     # `__init__` runs as a call of its class; a property's getter on reads
                     "Stack": "init", "Account": "init", "P": "init", "Temp": "init",
                     "Stack.top": "property", "Temp.fahrenheit": "property",
                     "Temp.kelvin": "method"}
    push = doc.function("Stack.push")
    assert push.params == ["x"] and push.required == 1        # self is not a parameter
    assert push.default_receiver == "Stack()"                 # __init__ needs no argument
    assert doc.function("Account.deposit").default_receiver is None
    assert doc.function("P.norm1").default_receiver is None
    assert doc.function("Stack.of").default_receiver == "Stack"
    assert doc.function_at(_line("item = self.items.pop()")).name == "Stack.pop"
    skipped = {s.name: s.reason for s in doc.skipped}
    assert set(skipped) == {"Temp.fahrenheit", "inner", "co"}          # (its setter)
    assert skipped["Temp.fahrenheit"] == doc.skipped_at(_line("def fahrenheit(self, value)")).reason
    assert "setter or deleter" in skipped["Temp.fahrenheit"]
    init = doc.function("Account")
    assert init.def_line == _line("def __init__(self, owner, balance)")
    assert (init.params, init.required) == (["owner", "balance"], 2)     # self is not one
    assert doc.function("Account.__init__") is init                      # its own name too
    assert doc.function_at(_line("self.x, self.y = x, y")).name == "P"
    assert "defined inside `cond`" in skipped["inner"]
    assert "async def" in skipped["co"]


def test_default_receivers():
    def receiver(src):
        return parse_document(textwrap.dedent(src)).function("A.m").default_receiver
    assert receiver("class A:\n    def m(self): pass\n") == "A()"
    assert receiver("class A(Base):\n    def m(self): pass\n") is None      # inherited init
    assert receiver("@dataclass\nclass A:\n    x: int = 1\n    def m(self): pass\n") == "A()"
    assert receiver("@dataclass\nclass A:\n    x: int\n    def m(self): pass\n") is None
    assert receiver("class A:\n    def __init__(self, *a): pass\n    def m(self): pass\n") == "A()"


def test_doctest_sessions_rebuild_the_instance():
    doc = parse_document(SRC)
    push = [(e.call, e.run_args, e.line) for e in doc.function("Stack.push").examples]
    # the method's own docstring first, then the class docstring's session
    assert push == [("Stack([1]).push(5)", "Stack([1]), 5", _line(">>> Stack([1]).push(5)")),
                    ("s.push(1)", "Stack(), 1", _line(">>> s.push(1)")),
                    ("s.push(2)", "(lambda s: ((s.push(1)), s)[-1])(Stack()), 2",
                     _line(">>> s.push(2)"))]
    pops = doc.function("Stack.pop").examples
    assert [(e.call, e.expected) for e in pops] == [("s.pop()", "2"), ("s.pop()", "5")]
    # the second pop sees the first one: the receiver replays everything done to `s`
    assert pops[1].run_args == \
        "(lambda s: ((s.push(1)), (s.push(2)), (s.pop()), s)[-1])(Stack())"
    assert pops[0].expected_range[0] == _line(">>> s.pop()") + 1


def test_asserts_and_test_files_call_methods():
    doc = parse_document(SRC)
    got = [(e.function, e.call, e.run_args, e.expected) for e in doc.asserts]
    assert got == [("Stack.peek", "Stack.of(1, 2).peek()", "Stack.of(1, 2)", "2"),
                   ("Stack.twice", "Stack.twice(3)", "3", "6"),
                   ("P.norm1", "P(3, -4).norm1()", "P(3, -4)", "7"),
                   ("cond", "cond(1)", "1", "11"),
                   ("Account.deposit", 'Account("ann", 10).deposit(5)', 'Account("ann", 10), 5',
                    "15"),
                   ("Temp.fahrenheit", "Temp(100).fahrenheit", "Temp(100)", "212.0")]
    kinds = {f.name: f.kind for f in doc.functions}
    found = examples_in_test_file(TESTS, "ex", kinds, "test_ex.py")
    assert [(e.function, e.call, e.expected) for e in found] == [
        ("Stack.peek", "Stack([7, 8]).peek()", "8"), ("Stack", "Stack([7, 8])", None),
        ("Stack.push", "Stack().push(3)", None), ("Stack", "Stack()", None),
        ("Stack.top", "Stack([4]).top", "4"), ("Stack", "Stack([4])", None)]
    # a property read in a doctest session: the instance is rebuilt, the read is no call
    reads = doc.function("Temp.fahrenheit").examples
    assert [(e.call, e.run_args, e.expected, e.attribute) for e in reads] == [
        ("t.fahrenheit", "Temp(20)", "68.0", True)]
    assert reads[0].source_call == "Temp(20).fahrenheit"


def test_inputs_for_init():
    doc = parse_document(SRC)
    # the doctest session's `s = Stack()` is a call of Stack's __init__
    assert [(e.call, e.origin) for e in doc.function("Stack").examples] == [("Stack()", "doctest")]
    # instances that method examples are called on were made by __init__ too
    methods = [e for m in ("Stack.push", "Stack.peek", "P.norm1") for e in doc.examples_for(m)]
    assert [(e.call, e.line) for e in constructor_examples("Stack", methods)] == [
        ("Stack([1])", _line(">>> Stack([1]).push(5)")), ("Stack()", _line(">>> s.push(1)"))]
    assert [e.call for e in constructor_examples("P", methods)] == ["P(3, -4)"]
    # __new__ runs as part of the class call: with an __init__ it is told in that run; alone
    # it is what the class call runs
    both = parse_document("class N:\n    def __new__(cls, v):\n        return super().__new__(cls)"
                          "\n\n    def __init__(self, v):\n        self.v = v\n")
    assert [(f.name, f.kind, f.def_name) for f in both.functions] == [("N", "init", "__init__")]
    assert "runs as part of `N(...)`" in both.skipped_at(1).reason
    alone = parse_document("class M:\n    def __new__(cls, v):\n"
                           "        return super().__new__(cls)\n")
    assert [(f.name, f.kind, f.def_name, f.params) for f in alone.functions] == [
        ("M", "init", "__new__", ["v"])]


# ---------------------------------------------------------------------- the server

CONFIG = ClientServerConfig(server_command=H.SERVER_COMMAND)
amod = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("methods")
    (root / "ex.py").write_text(SRC)
    (root / "test_ex.py").write_text(TESTS)
    return root


@pytest_lsp.fixture(scope="module", config=CONFIG)
async def client(lsp_client: LanguageClient, workspace):
    await H.start_session(lsp_client, workspace)
    lsp_client.uri = H.open_doc(lsp_client, workspace / "ex.py")
    yield
    await lsp_client.shutdown_session()


async def _hover_def(client, needle: str, col: int = 9) -> str:
    return await H.hover(client, client.uri, _line(needle), col)


@amod
async def test_hover_on_methods(client: LanguageClient):
    md = await _hover_def(client, "def push")
    assert md.startswith("**tracecot** · `Stack([1]).push(5)` → `None` · ✓ verified"), md
    md = await _hover_def(client, "def pop")
    assert md.startswith("**tracecot** · `s.pop()` → `2` · ✓ verified"), md
    assert "✓ as expected" in md and f"doctest on line {_line('>>> s.pop()') + 1}" in md
    md = await _hover_def(client, "def peek")
    assert md.startswith("**tracecot** · `Stack.of(1, 2).peek()` → `2`") and "✓ as expected" in md
    md = await _hover_def(client, "def twice", 13)
    assert md.startswith("**tracecot** · `Stack.twice(3)` → `6`")
    md = await _hover_def(client, "def norm1")
    assert md.startswith("**tracecot** · `P(3, -4).norm1()` → `7`") and "✓ verified" in md
    md = await _hover_def(client, "def deposit")
    assert md.startswith("**tracecot** · `Account(\"ann\", 10).deposit(5)` → `15`")
    # the instance is a value of the run: hovering `self` shows it
    md = await H.hover(client, client.uri, _line("self.balance += amount"), 10)
    assert "`self` in `Account(\"ann\", 10).deposit(5)`" in md and "changed in place" in md
    md = await _hover_def(client, "def cond", 9)      # a function defined in an `if` block
    assert md.startswith("**tracecot** · `cond(1)` → `11`") and "✓ as expected" in md


@amod
async def test_hover_says_why_a_def_does_not_run(client: LanguageClient):
    md = await _hover_def(client, "def inner", 17)
    assert "`inner` is defined inside `cond`" in md and "hover `cond`" in md
    # ... and how the run of `cond` called it
    assert "In the run `cond(1)` it was called 1 time:\n\n- `inner(k=1)` → `10`" in md, md
    md = await _hover_def(client, "def fahrenheit(self, value)")
    assert "`Temp.fahrenheit` is a property's setter or deleter" in md, md
    md = await _hover_def(client, "async def co", 11)
    assert "coroutine function" in md
    md = await _hover_def(client, "def audit")
    assert "`Account.audit` is a method" in md and "needs an instance" in md
    assert "`>>> Account(...).audit(...)`" in md


@amod
async def test_method_doctest_mismatch_and_quick_fix(client: LanguageClient):
    uri = client.uri
    assert await _until(lambda: uri in client.diagnostics)
    diags = client.diagnostics[uri]
    assert [d.message for d in diags] == ["tracecot: s.pop() returns 1, not 5"]
    d = diags[0]
    assert d.range.start.line == SRC.splitlines().index("    5")      # the expected value
    actions = await client.text_document_code_action_async(T.CodeActionParams(
        T.TextDocumentIdentifier(uri), d.range, T.CodeActionContext(diagnostics=[d])))
    assert actions[0].title == "Update the expected value to 1"


@amod
async def test_code_lenses_for_methods(client: LanguageClient):
    lenses = await client.text_document_code_lens_async(
        T.CodeLensParams(T.TextDocumentIdentifier(client.uri)))
    run_lines = [lens.range.start.line for lens in lenses if lens.command is None]
    assert _line("def push") in run_lines and _line("def norm1") in run_lines
    assert _line("def audit") not in run_lines          # no instance known
    lens = next(lens for lens in lenses
                if lens.command is None and lens.range.start.line == _line("def norm1"))
    lens = await client.code_lens_resolve_async(lens)
    assert lens.command.title == "▶ P(3, -4).norm1() → 7 ✓"
    # the lens's arguments run the same call again
    got = await H.command(client, lens.command.command, lens.command.arguments[0])
    assert got["title"] == "P(3, -4).norm1() → 7" and got["verified"] is True


@amod
async def test_explain_a_method_call(client: LanguageClient):
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.uri, "function": "Account.audit",
                           "args": "Account('bo', 3).audit(2)"})
    assert got["title"] == "Account('bo', 3).audit(2) → True" and got["verified"] is True
    assert got["args"] == "Account('bo', 3).audit(2)" and got["call"] == got["args"]
    # the run is remembered: hover and lens now have an input for audit
    md = await _hover_def(client, "def audit")
    assert md.startswith("**tracecot** · `Account('bo', 3).audit(2)` → `True`"), md
    again = await H.command(client, "tracecot.server.explainRun",
                            {"uri": client.uri, "runId": got["runId"]})
    assert again["title"] == got["title"]
    # arguments alone: the class needs none, so the method runs on Stack()
    for args in ("4", "Stack.twice(4)"):           # a static method: arguments or the call
        got = await H.command(client, "tracecot.server.explainRun",
                              {"uri": client.uri, "function": "Stack.twice", "args": args})
        assert got["title"] == "Stack.twice(4) → 8"
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.uri, "function": "Stack.push", "args": "9"})
    assert got["title"] == "Stack().push(9) → None"
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.uri, "function": "Stack.of", "args": "4, 5"})
    assert got["title"].startswith("Stack.of(4, 5) → Stack(")
    # ... but an Account cannot be made out of nothing
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.uri, "function": "Account.deposit", "args": "1"})
    assert "type the whole call" in got["error"]
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.uri, "function": "inner", "args": "1"})
    assert "defined inside `cond`" in got["error"]
    # asked without arguments: suggestions are whole calls, which run as they are
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.uri, "line": _line("self.balance += amount")})
    assert got["needsArgs"] and got["suggestions"][0] == 'Account("ann", 10).deposit(5)'


@amod
async def test_find_input_for_a_method(client: LanguageClient):
    got = await H.command(client, "tracecot.server.findInput",
                          {"uri": client.uri, "function": "Account.deposit", "target": "12"})
    assert got["inputs"], got
    first = got["inputs"][0]
    assert first["args"].startswith('Account("ann", 10).deposit(') and first["result"] == "12"
    assert first["assertText"] == f"assert {first['args']} == 12"
    check = await H.command(client, "tracecot.server.explainRun",
                            {"uri": client.uri, "function": "Account.deposit",
                             "args": first["args"]})
    assert check["title"] == f"{first['args']} → 12"


@amod
async def test_debug_a_method_runs_the_same_call(client: LanguageClient, workspace):
    got = await H.command(client, "tracecot.server.debugRun",
                          {"uri": client.uri, "function": "Stack.of", "args": "Stack.of(3, 4)"})
    assert got["args"] == [str(workspace / "ex.py"), "Stack.of", "Stack, 3, 4"]
    assert got["configuration"]["type"] == "debugpy" and got["call"] == "Stack.of(3, 4)"
    got = await H.command(client, "tracecot.server.debugRun",
                          {"uri": client.uri, "function": "Stack.pop",
                           "args": "Stack([4, 5]).pop()"})
    out = subprocess.run([sys.executable, got["program"], *got["args"]], cwd=got["cwd"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Stack.pop(Stack([4, 5])) returned 5"


async def _until(pred, timeout=15.0):
    end = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < end:
        if pred():
            return True
        await asyncio.sleep(0.05)
    return pred()


@amod
async def test_properties_run_on_reads(client: LanguageClient, workspace):
    # the getter runs on the instance a read is made on: a doctest session's, an assert's,
    # a test file's
    md = await _hover_def(client, "def fahrenheit(self):")
    assert md.startswith("**tracecot** · `t.fahrenheit` → `68.0` · ✓ verified"), md
    assert "✓ as expected" in md and "`f = self.celsius * 9 / 5 + 32`" in md, md
    md = await _hover_def(client, "def top")
    assert md.startswith("**tracecot** · `Stack([4]).top` → `4` · ✓ verified"), md
    # a method with no example and no argument runs on an instance another example makes
    md = await _hover_def(client, "def kelvin")
    assert md.startswith("**tracecot** · `Temp(20).kelvin()` → `293.15` · ✓ verified"), md
    assert f"the instance made on line {_line('>>> t = Temp(20)') + 1}" in md, md
    md = await H.hover(client, client.uri, _line("f = self.celsius * 9 / 5 + 32"), 8)
    assert "`f` in `t.fahrenheit`" in md and "68.0" in md, md
    # commands: the read written out, or the instance alone
    for args in ("Temp(0).fahrenheit", "Temp(0)"):
        got = await H.command(client, "tracecot.server.explainRun",
                              {"uri": client.uri, "function": "Temp.fahrenheit", "args": args})
        assert got["title"] == "Temp(0).fahrenheit → 32.0" and got["verified"] is True, got
        # told as written, not as the sandbox calls the getter (Temp.fahrenheit(Temp(0)))
        assert got["markdown"].startswith("**Run of `Temp(0).fahrenheit`**"), got["markdown"]
        assert "So `Temp(0).fahrenheit` returns `32.0`." in got["markdown"]
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.uri, "function": "Stack.top", "args": ""})
    assert got["title"].startswith("Stack().top ⇒ raises IndexError"), got
    got = await H.command(client, "tracecot.server.findInput",
                          {"uri": client.uri, "function": "Temp.fahrenheit", "target": "50.0"})
    assert "is a property: it takes no arguments to search over" in got["error"], got
    got = await H.command(client, "tracecot.server.predictOutput",
                          {"uri": client.uri, "function": "Temp.fahrenheit", "args": "Temp(5)"})
    assert "is a property: the model predicts what calls return" in got["error"], got
    got = await H.command(client, "tracecot.server.debugRun",
                          {"uri": client.uri, "function": "Temp.fahrenheit", "args": "Temp(10)"})
    out = subprocess.run([sys.executable, got["program"], *got["args"]], cwd=got["cwd"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == \
        "Temp.fahrenheit(Temp(10)) returned 50.0", out


@amod
async def test_init_runs_as_a_call_of_its_class(client: LanguageClient, workspace):
    # hover on `def __init__`: the constructor calls that examples make, narrated
    md = await _hover_def(client, "def __init__(self, x, y=0)")
    assert md.startswith("**tracecot** · `P(3, -4)` → `P(x=3, y=-4)` · ✓ verified"), md
    assert "Calling `P` makes a new instance and calls `P.__init__`" in md, md
    md = await _hover_def(client, "def __init__(self, owner, balance)")
    assert md.startswith("**tracecot** · `Account(\"ann\", 10)` → `Account(owner='ann', "
                         "balance=10)`"), md
    md = await H.hover(client, client.uri, _line("class P:"), 6)     # the class's name
    assert md.startswith("**tracecot** · `P(3, -4)` → `P(x=3, y=-4)`"), md
    assert await H.hover(client, client.uri, _line("class P:"), 1) is None
    md = await H.hover(client, client.uri, _line("self.items = list(items or [])"), 9)
    assert "`self` in `Stack()`" in md and "changed in place" in md, md
    # the run lens on __init__
    lenses = await client.text_document_code_lens_async(
        T.CodeLensParams(T.TextDocumentIdentifier(client.uri)))
    lens = next(lens for lens in lenses if lens.command is None
                and lens.range.start.line == _line("def __init__(self, x, y=0)"))
    lens = await client.code_lens_resolve_async(lens)
    assert lens.command.title == "▶ P(3, -4) → P(x=3, y=-4) ✓", lens.command.title
    # commands: the class's name or `Cls.__init__`, with arguments or the whole call
    for function, args in (("P", "1, 2"), ("P.__init__", "P(1, 2)"), ("P", "P(1, y=2)")):
        got = await H.command(client, "tracecot.server.explainRun",
                              {"uri": client.uri, "function": function, "args": args})
        assert got["title"] in ("P(1, 2) → P(x=1, y=2)", "P(1, y=2) → P(x=1, y=2)"), got
        assert got["verified"] is True
    got = await H.command(client, "tracecot.server.explainRun",
                          {"uri": client.uri, "function": "P", "args": "1, 2, 3"})
    assert "wrong arguments for P(x, y=0): too many positional" in got["error"], got
    # P has no __eq__: a P equal to P(5, 0) cannot be made, and the answer says why at once
    got = await H.command(client, "tracecot.server.findInput",
                          {"uri": client.uri, "function": "P", "target": "P(5, 0)"})
    assert got["inputs"] == [] and "looks the same, but `==` says they differ" in \
        got["message"] and "gives P(x=5, y=0)" in got["message"], got
    got = await H.command(client, "tracecot.server.debugRun",
                          {"uri": client.uri, "function": "P", "args": "7"})
    assert got["args"] == [str(workspace / "ex.py"), "P", "7"]
    out = subprocess.run([sys.executable, got["program"], *got["args"]], cwd=got["cwd"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("P(7) returned "), out


def test_no_model_prediction_is_asked_for_a_property_read():
    # the model is asked about calls; `Temp.fahrenheit(Temp(20))` is not one
    from types import SimpleNamespace
    from tracecot.server.document import Example
    from tracecot.server.hover import prediction_text
    me = SimpleNamespace(model=SimpleNamespace(enabled=True, state="loading"))
    read = SimpleNamespace(example=Example("Temp.fahrenheit", "", receiver="Temp(20)",
                                           attribute=True))
    call = SimpleNamespace(example=Example("Temp.kelvin", "", receiver="Temp(20)"))
    assert prediction_text(me, "u", None, read) is None
    assert prediction_text(me, "u", None, call) is not None     # "loading…"
