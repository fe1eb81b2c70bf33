"""Fuzz: 1,200 malformed or random-but-valid LSP messages over raw stdio. The server never
crashes, answers every request that has an id, and still answers correctly at the end.

No wall-clock bound decides the outcome: under CPU load the server may answer slowly, so
the test waits as long as answers keep coming (it fails when none came for STALL_S while
requests were still open), and the final check runs with an ordinary run timeout."""

import asyncio
import json
import os
import random
import string
import sys

import pytest

from support import lsp as H
from tracecot.tracer.datasets import cruxeval_rows

N_MESSAGES = int(os.environ.get("FUZZ_N", "1200"))
STALL_S = 90.0           # no answer at all for this long, with requests open: the server hangs

DOCS = [
    "def f(x):\n    y = x * 2\n    return y\n\nassert f(2) == 4\n",
    "def g(xs):\n    '''\n    >>> g([1, 2])\n    3\n    '''\n    return sum(xs)\n",
    "def broken(:\n    pass\n",
    "",
    "\x00\x01 def",
    "def h():\n    while True:\n        pass\n\nassert h() == 1\n",
    "class A:\n    @staticmethod\n    def s(a):\n        return a\n\nassert A.s(1) == 1\n",
    "é = 'ü'\ndef u(s='☃'):\n    return s * 2\n\nassert u('ß') == 'ßß'\n",
    "x = 1\n" * 300,
    # methods: a doctest session, a classmethod, a nested function
    "class S:\n    '''\n    >>> s = S()\n    >>> s.add(1)\n    >>> s.total()\n    1\n    '''\n"
    "    def __init__(self):\n        self.xs = []\n\n    def add(self, x):\n"
    "        self.xs.append(x)\n\n    @classmethod\n    def of(cls, x):\n        return cls()\n\n"
    "    def total(self):\n        def inner(v):\n            return v\n"
    "        return inner(sum(self.xs))\n\n\nassert S().total() == 0\n",
    # __init__ and __new__ (run as calls of the class), properties (run on reads)
    "class T:\n    '''\n    >>> t = T(20)\n    >>> t.f\n    68.0\n    '''\n"
    "    def __new__(cls, c):\n        return super().__new__(cls)\n\n"
    "    def __init__(self, c):\n        if c < -273:\n            raise ValueError(c)\n"
    "        self.c = c\n\n    @property\n    def f(self):\n        return self.c * 9 / 5 + 32\n\n"
    "    @f.setter\n    def f(self, v):\n        self.c = (v - 32) * 5 / 9\n\n\n"
    "assert T(100).f == 212.0\nassert T(0) == T(0)\n",
]


def _crux_docs(k: int, rng: random.Random) -> list[str]:
    rows = cruxeval_rows(limit=200)
    return [f"{r['code']}\n\nassert f({r['input']}) == {r['output']}\n"
            for r in rng.sample(rows, k)]


class RawClient:
    def __init__(self, proc):
        self.proc = proc
        self.responses: dict = {}
        self.notifications = 0
        self.reader = asyncio.ensure_future(self._read())

    def send(self, obj=None, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = await out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                k, _, v = line.partition(b":")
                if k.lower() == b"content-length":
                    length = int(v)
            msg = json.loads(await out.readexactly(length))
            if "id" in msg and "method" in msg:          # a request from the server
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            elif "id" in msg:
                self.responses[msg["id"]] = msg
            else:
                self.notifications += 1


def _junk(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([0, -1, 2 ** 31, 2 ** 64, 1.5, float("1e308")])
    if kind == 2:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(20)))
    if kind == 3:
        return rng.choice([True, False])
    if kind == 4:
        return "file:///" + "".join(rng.choice("ab/.é%") for _ in range(rng.randrange(12)))
    if kind == 5:
        return rng.choice(["tracecot.server.explainRun", "tracecot.server.findInput", "x"])
    if kind == 6:
        return [_junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["uri", "function", "line", "args", "target", "runId", "textDocument", "position",
            "range", "character", "start", "end", "data", "x"]
    return {rng.choice(keys): _junk(rng, depth + 1) for _ in range(rng.randrange(5))}


def _pos(rng):
    return {"line": rng.choice([0, 1, 2, 3, 4, 5, rng.randrange(400), -1, 2 ** 31]),
            "character": rng.choice([0, 4, 5, 8, rng.randrange(200), -3])}


def _message(rng: random.Random, uris: list[str], next_id):
    uri = rng.choice(uris)
    td = {"uri": uri}
    r = rng.random()
    if r < 0.05:      # not JSON at all, or not JSON-RPC
        return None, rng.choice([b"{", b"[]", b"null", b'{"jsonrpc": "2.0"}', b"\xff\xfe",
                                 json.dumps({"id": 5, "method": 7}).encode()])
    if r < 0.12:
        return None, {"jsonrpc": "2.0", "method": rng.choice(["$/cancelRequest", "foo/bar",
                                                              "tracecot/trustChanged"]),
                      "params": _junk(rng)}
    i = next_id()
    method, params = rng.choice([
        ("textDocument/hover", lambda: {"textDocument": td, "position": _pos(rng)}),
        ("textDocument/hover", lambda: {"textDocument": td, "position": _pos(rng)}),
        ("textDocument/codeLens", lambda: {"textDocument": td}),
        ("codeLens/resolve", lambda: {"range": {"start": _pos(rng), "end": _pos(rng)},
                                      "data": rng.choice([_junk(rng),
                                                          {"uri": uri, "function": "f"}])}),
        ("textDocument/inlayHint", lambda: {"textDocument": td,
                                            "range": {"start": _pos(rng), "end": _pos(rng)}}),
        ("textDocument/codeAction", lambda: {"textDocument": td,
                                             "range": {"start": _pos(rng), "end": _pos(rng)},
                                             "context": {"diagnostics": []}}),
        ("workspace/executeCommand", lambda: {"command": rng.choice([
            "tracecot.server.explainRun", "tracecot.server.findInput", "tracecot.server.debugRun",
            "tracecot.server.predictOutput", "nope"]),
            "arguments": rng.choice([[], [_junk(rng)], [{"uri": uri, "line": rng.randrange(8)}],
                                     [{"uri": uri,
                                       "function": rng.choice(["f", "S.add", "S.of", "inner"]),
                                       "args": rng.choice(["1", "[", "x", "'a'", "S().add(2)",
                                                           "S.of(1)"]),
                                       "target": rng.choice(["1", "2", ")"])}]])}),
        ("textDocument/definition", lambda: {"textDocument": td, "position": _pos(rng)}),
        ("unknown/method", lambda: _junk(rng)),
        ("textDocument/hover", lambda: _junk(rng)),            # bad params
        ("textDocument/codeLens", lambda: _junk(rng)),
    ])
    return i, {"jsonrpc": "2.0", "id": i, "method": method, "params": params()}


@pytest.mark.filterwarnings("ignore")
def test_fuzz_never_crashes(tmp_path):
    asyncio.run(_fuzz(tmp_path))


async def _fuzz(tmp_path):
    rng = random.Random(20240611)
    docs = DOCS + _crux_docs(6, rng)
    uris = []
    for k, text in enumerate(docs):
        p = tmp_path / f"doc{k}.py"
        p.write_text(text, encoding="utf-8", errors="surrogateescape")
        uris.append(p.as_uri())
    uris.append("file:///does/not/exist.py")
    proc = await asyncio.create_subprocess_exec(
        *H.SERVER_COMMAND, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=open(os.environ.get("FUZZ_LOG", os.devnull), "wb"))
    client = RawClient(proc)
    ids = iter(range(1, 10 ** 9))
    client.send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "capabilities": {"workspace": {"configuration": True},
                         "window": {"workDoneProgress": True}},
        "rootUri": tmp_path.as_uri(), "initializationOptions": {"settings": H.settings(
            run={"timeout": 0.5, "stepCap": 200000}, inputFinder={"budget": 0.3}),
            "trusted": True}}})
    assert await _while_answering(client, lambda: 0 in client.responses), "no initialize answer"
    client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    for uri, text in zip(uris, docs, strict=False):   # the last uri is never opened
        client.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}})
    expected = set()
    for n in range(N_MESSAGES):
        if n % 150 == 75:    # edits with random text in between
            k = rng.randrange(len(docs))
            text = rng.choice(docs) + "".join(rng.choice(string.printable) for _ in range(30))
            client.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uris[k], "version": n},
                "contentChanges": [{"text": text}]}})
        msg_id, msg = _message(rng, uris, lambda: next(ids))
        if isinstance(msg, bytes):
            client.send(raw=msg)
        else:
            client.send(msg)
        if msg_id is not None:
            expected.add(msg_id)
        if n % 40 == 0:
            await proc.stdin.drain()
            await asyncio.sleep(0.01)
    await proc.stdin.drain()
    assert len(expected) >= 1000 or N_MESSAGES < 1200
    ok = await _while_answering(client, lambda: expected <= set(client.responses))
    missing = expected - set(client.responses)
    assert ok, f"{len(missing)} requests never answered, e.g. {sorted(missing)[:5]}"
    assert proc.returncode is None, "the server exited"
    # still correct afterwards, with a run timeout that CPU load cannot make it miss
    client.send({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {
        "settings": {"tracecot": H.settings(run={"timeout": 20, "stepCap": 2_000_000})}}})
    client.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": (tmp_path / "last.py").as_uri(), "languageId": "python", "version": 1,
        "text": DOCS[0]}}})
    client.send({"jsonrpc": "2.0", "id": "last", "method": "textDocument/hover", "params": {
        "textDocument": {"uri": (tmp_path / "last.py").as_uri()},
        "position": {"line": 0, "character": 4}}})
    assert await _while_answering(client, lambda: "last" in client.responses)
    value = client.responses["last"]["result"]["contents"]["value"]
    assert "`f(2)` → `4`" in value and "✓ verified" in value
    errors = sum("error" in r for r in client.responses.values())
    print(f"\nfuzz: {len(expected)} requests answered ({errors} with an error), "
          f"{client.notifications} notifications")
    client.send({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"})
    await _while_answering(client, lambda: "bye" in client.responses)
    client.send({"jsonrpc": "2.0", "method": "exit"})
    await proc.stdin.drain()
    try:
        await asyncio.wait_for(proc.wait(), 10)
    except asyncio.TimeoutError:
        proc.kill()
    client.reader.cancel()


async def _while_answering(client: RawClient, pred) -> bool:
    """Wait until `pred()`, as long as the server keeps answering: False once STALL_S went
    by without any new message from it (or it exited)."""
    loop = asyncio.get_running_loop()
    seen, last = -1, loop.time()
    while not pred():
        count = len(client.responses) + client.notifications
        if count != seen:
            seen, last = count, loop.time()
        elif loop.time() - last > STALL_S or client.reader.done():
            return pred()
        await asyncio.sleep(0.05)
    return True


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-s", "-q"]))
