"""Runs from the event loop (tracecot.server.runs): cache, sharing, cancellation, history;
and the presentation of their traces (tracecot.server.present)."""

import asyncio
import json
import time

import pytest

from tracecot.server import present
from tracecot.server.explain import explain, summary
from tracecot.server.runs import History, Runner
from support.lsp import descendants
from tracecot.tracer import RunRequest

SRC = '''
def hist(nums):
    output = []
    for n in nums:
        output.append((nums.count(n), n))
    output.sort(reverse=True)
    return output

def boom(x):
    y = x + 1
    raise ValueError(f"bad {y}")

def forever():
    while True:
        pass

def total(n):
    t = 0
    for v in range(n):
        t += v
    return t

class Pt:
    def __init__(self, x):
        self.x = x
'''


def req(function, args="", **kw):
    return RunRequest(function=function, args=args, source=SRC, path="/tmp/x.py", **kw)


def test_listeners_hear_of_kept_runs_only(sandbox):
    """The server refreshes lenses and hints when a run finishes; runs it does not keep
    (one-off or cancelled) must not notify, or refreshing could start new runs forever."""
    async def go():
        r = Runner(sandbox)
        heard = []
        r.listeners.append(lambda rq, trace: heard.append((rq.function, trace.status)))
        await r.run(req("total", "3"))
        assert heard == [("total", "returned")]
        await r.run(req("total", "3"))                 # cached: no new run
        await r.run(req("total", "4"), cache=False)    # one-off
        assert heard == [("total", "returned")]
        task = asyncio.ensure_future(r.run(req("forever", timeout=30)))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.3)
        await r.run(req("boom", "1"))
        assert heard == [("total", "returned"), ("boom", "raised")]
    asyncio.run(go())


def test_cache_and_sharing(sandbox):
    async def go():
        r = Runner(sandbox)
        a, b = await asyncio.gather(r.run(req("hist", "[1, 1, 3]")),
                                    r.run(req("hist", "[1, 1, 3]")))
        assert a is b and r.started == 1
        c = await r.run(req("hist", "[1, 1, 3]"))
        assert c is a and r.hits == 1
        d = await r.run(req("hist", "[1, 1, 3]"), cache=False)
        assert d is not a and r.started == 2
        assert present.outcome(a) == "[(2, 1), (2, 1), (1, 3)]"
    asyncio.run(go())


def test_cache_is_bounded_by_events(sandbox):
    async def go():
        r = Runner(sandbox, max_traces=1000, max_events=200)
        for n in range(30):
            await r.run(req("total", str(n)))
        assert r._events <= 200 and len(r._cache) < 30
    asyncio.run(go())


def test_cancelling_the_last_waiter_kills_the_run(sandbox):
    async def go():
        r = Runner(sandbox)
        task = asyncio.ensure_future(r.run(req("forever", timeout=30)))
        await asyncio.sleep(0.3)
        assert r.busy == 1
        t = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the sandbox answers the cancelled run at once; its child is gone
        while r.busy and time.monotonic() - t < 2:
            await asyncio.sleep(0.01)
        assert r.busy == 0 and time.monotonic() - t < 0.5
        assert r.cancelled == 1
    asyncio.run(go())
    server = sandbox._proc
    deadline = time.monotonic() + 0.5
    while descendants(server.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert descendants(server.pid) == []


def test_a_shared_run_survives_one_cancelled_waiter(sandbox):
    async def go():
        r = Runner(sandbox)
        a = asyncio.ensure_future(r.run(req("total", "20000")))
        b = asyncio.ensure_future(r.run(req("total", "20000")))
        await asyncio.sleep(0)
        a.cancel()
        trace = await b
        assert trace.status == "returned" and r.cancelled == 0
    asyncio.run(go())


def test_history_round_trip(tmp_path):
    h = History(str(tmp_path))
    f = str(tmp_path / "ex.py")
    h.add(f, "hist", "[1]")
    h.add(f, "hist", "[2]")
    h.add(f, "hist", "[1]")
    assert h.get(f, "hist") == ["[1]", "[2]"]
    data = json.loads((tmp_path / ".tracecot" / "runs.json").read_text())
    assert data["runs"] == {"ex.py": {"hist": ["[1]", "[2]"]}}
    assert History(str(tmp_path)).get(f, "hist") == ["[1]", "[2]"]
    (tmp_path / ".tracecot" / "runs.json").write_text("{not json")
    assert History(str(tmp_path)).get(f, "hist") == []
    for i in range(20):
        h.add(f, "hist", str(i))
    assert len(h.get(f, "hist")) == History.MAX_PER_FUNCTION
    assert History(None).get(f, "hist") == []


def test_presentation_of_a_run(sandbox):
    trace = sandbox.run(req("hist", "[1, 1, 3]"))
    hints = present.inlay_hints(trace)
    # lines are 0-based: `output = []` is line 3 of SRC (1-based), the loop line 4
    assert hints[2] == "output = []"
    assert hints[3] == "n = 3 (×3)"
    assert hints[4].startswith("output = [(2, 1), (2, 1), (1, 3)] (×3)")
    assert present.return_hint(trace) == (6, "→ [(2, 1), (2, 1), (1, 3)]")
    hist = present.value_history(trace, "output")
    # sort() left the list as it was: no change recorded for line 6
    assert [c.kind for c in hist] == ["bind", "mutate", "mutate", "mutate"]
    assert [c.iteration for c in hist][:4] == [None, 1, 2, 3]
    md = present.hover_variable("output", "hist([1, 1, 3])", hist)
    assert "4 changes" in md and "line 5" in md
    title = present.lens_title("hist([1, 1, 3])", trace, True)
    assert title == "▶ hist([1, 1, 3]) → [(2, 1), (2, 1), (1, 3)] ✓"
    assert present.lens_title("hist([1, 1, 3])", trace, False).endswith("(narrative not verified)")


def test_presentation_of_failures(sandbox):
    raised = sandbox.run(req("boom", "1"))
    assert present.outcome(raised) == "raises ValueError: bad 2"
    assert present.lens_title("boom(1)", raised).startswith("▶ boom(1) ⇒ raises ValueError")
    assert present.mismatch_message("boom(1)", raised, "3", None).startswith("boom(1) raises")
    assert present.mismatch_message("boom(1)", raised, None, "ValueError") is None
    slow = sandbox.run(req("forever", timeout=0.2))
    assert "did not finish" in present.mismatch_message("forever()", slow, "1", None)
    assert "⚠" in present.lens_title("forever()", slow)
    wrong = sandbox.run(req("total", "3", expected="4"))
    assert present.mismatch_message("total(3)", wrong, "4", None) == "total(3) returns 3, not 4"
    right = sandbox.run(req("total", "3", expected="3"))
    assert present.mismatch_message("total(3)", right, "3", None) is None
    # `assert Pt(1) == Pt(1)` fails in Python too (no __eq__): the message says why
    alike = sandbox.run(req("Pt", "1", expected="Pt(1)"))
    assert present.mismatch_message("Pt(1)", alike, "Pt(1)", None) == (
        "Pt(1) returns Pt(x=1), which looks like Pt(1), but `==` says they differ (objects "
        "of a class without __eq__ are equal only to themselves)")
    assert present.lens_title("total(3)", wrong).endswith("✗ expected 4")
    assert present.md_code("a`b") == "``a`b``"


def test_explanations_are_verified_or_say_why(sandbox):
    trace = sandbox.run(req("total", "4"))
    ex = explain(trace, req("total", "4"), sandbox)
    if ex.narrator == "tracer":
        assert ex.verified is True and ex.wrong == 0 and ex.checked > 0
        assert any(s.verified for s in ex.steps)
        assert all(s.line >= -1 for s in ex.steps)
    s = summary(trace)
    assert s.verified is None and any("`t` =" in st.text for st in s.steps)
    md = present.hover_function("total(4)", trace, ex.steps, ex.verified, "the assert")
    assert md.startswith("**tracecot** · `total(4)` → `6`")


def test_model_service_never_waits_for_its_worker():
    """Stopping the model (setting changed, workspace closed) while its worker is slow to
    exit, or cancelling a prediction, returns at once: the waiting happens in a thread."""
    import threading
    from tracecot.server.model import ModelService

    release = threading.Event()

    class SlowWorker:
        closing = threading.Event()
        cancelled = threading.Event()

        def close(self):
            self.closing.set()
            release.wait(30)

        def cancel(self, rid):
            release.wait(30)
            self.cancelled.set()

        def request(self, method, params):
            from concurrent.futures import Future
            f = Future()
            f.request_id = "1"
            return f

    async def go():
        states = []
        m = ModelService(lambda s, msg: states.append(s))
        worker = SlowWorker()
        m.enabled, m.state, m._worker = True, "ready", worker
        call = asyncio.ensure_future(m.predict_output("def f(x): return x", "f", "1"))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert not worker.cancelled.is_set()       # still blocked in its thread
        m.configure(False, "", "", True)           # returns while close() is blocked
        assert states[-1] == "disabled" and m._worker is None
        assert worker.closing.wait(10) and not release.is_set()
        with pytest.raises(Exception) as err:
            await m.predict_output("def f(x): return x", "f", "1")
        assert "disabled" in str(err.value)
        release.set()
        assert worker.cancelled.wait(10)
    asyncio.run(go())
