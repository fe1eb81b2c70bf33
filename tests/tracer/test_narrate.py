"""Narrator: forward and backward narratives, loop summaries, nesting, renderings, claims."""



from tracecot.tracer import RunRequest
from tracecot.tracer.narration.narrate import (branch_header, code_text, forward_text, names_read,
                                               narrate, narrate_backward, to_markdown, to_plain)
from tracecot.tracer.narration.narrative import CLAIM_KINDS
from tracecot.tracer.verification.verify import verify_many
from tracecot.tracer.values import encode, render
from support.paths import FEATURES, HISTOGRAM


LOOPS = '''\
def hundred(n):
    total = 0
    for i in range(n):
        if i == 50:
            total -= 1
        total += i
    return total


def plain_loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


def nested(rows):
    out = []
    for r in rows:
        for c in r:
            if c:
                break
        out.append(len(r))
    return out


def sorter(words):
    return sorted(words, key=lambda w: len(w))


def noisy(n):
    print("start", n)
    if n > 2:
        raise ValueError(f"too big: {n}")
    return n


def deep(n):
    if n == 0:
        return 0
    return 1 + deep(n - 1)


def pick(a, b):
    c = a * 2
    if b:
        c += 1
    return [c]


def spin(n):
    i = 0
    while True:
        i += 1
        if i % 2:
            continue
        if i > n:
            break
    return i
'''


def run(sandbox, function, args, path=None, source=None, **kw):
    req = RunRequest(function=function, args=args, path=str(path) if path else None,
                     source=LOOPS if path is None and source is None else source, **kw)
    return sandbox.run(req), req


def L(snippet: str) -> int:
    """Line number in LOOPS of the first line containing `snippet`."""
    return next(i for i, line in enumerate(LOOPS.splitlines(), 1) if snippet in line)


def texts(narrative):
    return [s.text for s in narrative.steps]


def test_histogram_forward_steps_and_claims(sandbox):
    trace, req = run(sandbox, "histogram", "[1, 1, 3, 1, 2]", HISTOGRAM)
    n = narrate(trace, req)
    t = texts(n)
    assert t[0] == "`histogram` is called with `values = [1, 1, 3, 1, 2]`."
    assert "Line 10: `counts = {}` sets `counts` to `{}`." in t
    assert "Line 13: `counts[v] += 1` changes `counts` in place to `{1: 2}`." in t
    assert "Line 11: the loop `for v in values:` runs 5 times." in t
    # the branch outcome comes from the next line run, with the values the condition reads
    assert "Line 12: `if v in counts:` is false (`v = 1`, `counts = {}`) → goes to line 15." in t
    assert "Line 12: `if v in counts:` is true (`v = 1`, `counts = {1: 1}`) → runs line 13." in t
    sort = next(s for s in t if s.startswith("Line 17"))
    assert "calls the lambda 3 times: `p = (1, 3)` → `-3`, `p = (3, 1)` → `-1`, " \
           "`p = (2, 1)` → `-1`" in sort
    assert "Line 18: `return pairs`: `histogram` returns `[(1, 3), (3, 1), (2, 1)]`." in t
    assert n.conclusion == ("So `histogram([1, 1, 3, 1, 2])` returns "
                            "`[(1, 3), (3, 1), (2, 1)]`.")
    kinds = {c.kind for c in n.claims}
    assert {"calls", "binds", "mutates", "branch", "loop_count", "value", "returns",
            "result"} <= kinds
    # every claim tied to an event points at an event of that kind, line and variable
    for c in n.claims:
        if c.event_index is None or c.kind in ("value", "branch", "loop_count"):
            continue
        e = trace.events[c.event_index]
        assert e.line == c.line and e.frame == c.frame
        if c.kind in ("binds", "mutates"):
            assert e.name == c.variable and e.value == c.value
    loop = next(c for c in n.claims if c.kind == "loop_count")
    assert loop.value == encode(5) and loop.line == 11
    assert [s.index for s in n.steps] == list(range(1, len(n.steps) + 1))


def test_plain_text_is_cruxeval_style_and_deterministic(sandbox):
    trace, req = run(sandbox, "histogram", "[1, 1, 3, 1, 2]", HISTOGRAM)
    text = to_plain(narrate(trace, req))
    lines = text.splitlines()
    assert lines[0] == "Let's execute the code step by step:"
    assert lines[1] == "1. The function histogram is called with values = [1, 1, 3, 1, 2]."
    assert lines[-1] == "So the function returns [(1, 3), (3, 1), (2, 1)]."
    assert "2. Line 10: counts = {}, so counts is set to {}." in lines
    assert "`" not in text and "**" not in text
    again, _ = run(sandbox, "histogram", "[1, 1, 3, 1, 2]", HISTOGRAM)
    assert forward_text(again) == forward_text(trace) == to_plain(narrate(again))


def test_loop_of_100_iterations_shows_first_last_and_different_ones(sandbox):
    trace, req = run(sandbox, "plain_loop", "100")
    n = narrate(trace, req)
    t = texts(n)
    assert len(n.steps) < 15
    assert "Line 12: the loop `for i in range(n):` runs 100 times." in t
    assert "Iteration 1: `i = 0`." in t and "Iteration 100: `i = 99`." in t
    assert ("… 98 more iterations like these (`i` takes 1, 2, 3, 4, 5, 6, …, 97, 98); "
            "after them `total = 4851`.") in t
    assert "Line 13: `total += i`: `total` stays `0`." in t      # 0 + 0 rebinds nothing
    assert "... 98 more iterations like these" in to_plain(n)
    # An iteration whose lines differ from the ones shown is shown too.
    trace, req = run(sandbox, "hundred", "100")
    t = texts(narrate(trace, req))
    assert [s for s in t if s.startswith("Iteration")] == [
        "Iteration 1: `i = 0`.", "Iteration 51: `i = 50`.", "Iteration 100: `i = 99`."]
    assert any(s.startswith("… 49 more iterations") for s in t)
    assert any(s.startswith("… 48 more iterations") for s in t)
    assert "Line 5: `total -= 1` sets `total` to `1224`." in t


def test_nested_loops_break_and_zero_iterations(sandbox):
    trace, req = run(sandbox, "nested", "[[0, 1], [1], []]")
    n = narrate(trace, req)
    by_text = {s.text: s for s in n.steps}
    assert by_text["Line 19: the loop `for r in rows:` runs 3 times."].depth == 0
    assert by_text["Line 20: the loop `for c in r:` runs 2 times."].depth == 2
    assert by_text["Line 22: `break` leaves the loop."].depth == 4
    zero = by_text["Line 20: the loop `for c in r:` runs 0 times: nothing to iterate over "
                   "(`r = []`)."]
    assert any(c.kind == "loop_count" and c.value == encode(0) for c in zero.claims)
    assert [c.value for c in n.claims if c.kind == "loop_count"] == \
        [encode(3), encode(2), encode(1), encode(0)]


def test_nested_calls_are_indented_and_return(sandbox):
    trace, req = run(sandbox, "calls_and_aliases", "3", FEATURES)
    n = narrate(trace, req)
    call = next(s for s in n.steps if "calls `helper(xs=[])`" in s.text)
    assert call.text == "Line 15: `total += helper(out)` → calls `helper(xs=[])`."
    inner = n.steps[call.index]                     # the next step: inside helper
    assert inner.depth == call.depth + 1
    assert inner.text == "Line 5: `xs.append(len(xs))` changes `xs` in place to `[0]`."
    assert n.steps[call.index + 1].text == "Line 6: `return xs[-1]`: `helper` returns `0`."
    back = n.steps[call.index + 2]
    assert back.depth == call.depth
    assert back.text == ("Back at line 15: changes `out` in place to `[0]` (also `alias`); "
                         "`total` stays `0`.")
    assert any(c.kind == "calls" and c.variable == "helper" and
               render(c.value) == "{'xs': []}" for c in call.claims)


EVERY_STEP = [("hundred", "100", None), ("plain_loop", "5", None),
              ("nested", "[[0, 1], [1], []]", None), ("sorter", "['bb', 'a']", None),
              ("noisy", "5", None), ("deep", "5", None), ("pick", "3, True", None),
              ("spin", "5", None), ("calls_and_aliases", "3", FEATURES),
              ("generators", "3", FEATURES), ("propagation", "", FEATURES),
              ("while_loop", "6", FEATURES), ("stubborn", "1", FEATURES),
              ("histogram", "[1, 1, 3, 1, 2]", HISTOGRAM)]


def test_every_step_carries_a_claim_that_verifies(sandbox):
    """Forward and backward, every step states at least one checkable claim (a step that
    only says a line ran, like `break` or a bare iteration, claims that), and all verify."""
    narratives = []
    for function, args, path in EVERY_STEP:
        trace, req = run(sandbox, function, args, path, max_steps=2000)
        narratives += [narrate(trace, req), narrate_backward(trace, req)]
    trace, req = run(sandbox, "hundred", "100")
    cut = narrate(trace, req, max_steps=6)
    assert cut.steps[-1].text.startswith("… (the rest of the run is not narrated")
    narratives.append(cut)
    for n in narratives:
        bare = [s.text for s in n.steps if not s.claims]
        assert not bare, (n.trace.call, n.direction, bare)
        assert {c.kind for c in n.claims} <= set(CLAIM_KINDS)
    for n, v in zip(narratives, verify_many(narratives, sandbox), strict=True):
        assert v.verified, (n.trace.call, n.direction, [str(x) for x in v.verdicts if not x.ok])
    trace, req = run(sandbox, "spin", "5")
    n = narrate(trace, req)
    by_text = {s.text: s for s in n.steps}
    for line, text in ((L("if i > n") + 1, "`break` leaves the loop"),
                       (L("if i % 2") + 1, "`continue` goes to the next iteration")):
        step = by_text[f"Line {line}: {text}."]
        (claim,) = step.claims
        assert (claim.kind, claim.line, claim.variable, claim.value) == ("runs", line, None, None)
        e = trace.events[claim.event_index]
        assert (e.kind, e.line, e.frame) == ("line", line, claim.frame)
    assert [c.kind for c in by_text["Iteration 1:"].claims] == ["runs"]
    # a step about a line that never ran is caught
    claim.line = L("return [c]")
    v = verify_many([n], sandbox)[0]
    assert not v.verified and [x.claim for x in v.wrong] == [claim]
    assert "never happens" in v.wrong[0].note


def test_deep_recursion_is_summarised_below_the_detail_level(sandbox):
    trace, req = run(sandbox, "deep", "6")
    n = narrate(trace, req, detail=2)
    assert max(s.depth for s in n.steps) == 2
    assert any(s.text == f"Line {L('1 + deep')}: `return 1 + deep(n - 1)` calls `deep`: "
               "`n = 3` → `3`." for s in n.steps)
    full = narrate(trace, req, detail=10)
    assert max(s.depth for s in full.steps) == 6


def test_repeated_lambda_calls_in_one_line_are_one_step(sandbox):
    words = "['ccc', 'a', 'bb', 'dddd', 'e', 'ff', 'ggg', 'hh', 'i', 'jj']"
    trace, req = run(sandbox, "sorter", words)
    n = narrate(trace, req)
    step = n.steps[1]
    assert step.text.startswith(f"Line {L('sorted(')}: `return sorted(words, key=lambda w: "
                                "len(w))` calls the lambda 10 times: `w = 'ccc'` → `3`, "
                                "`w = 'a'` → `1`")
    assert "…, `w = 'i'` → `1`, `w = 'jj'` → `2`." in step.text
    assert sum(c.kind == "calls" for c in step.claims) == 8      # the calls shown


def test_exceptions_and_printed_output(sandbox):
    trace, req = run(sandbox, "noisy", "5")
    n = narrate(trace, req)
    t = texts(n)
    assert f"Line {L('print(')}: `print(\"start\", n)` prints `'start 5'`." in t
    assert (f"Line {L('raise')}: `raise ValueError(f\"too big: {{n}}\")` raises `ValueError: "
            "too big: 5`; `noisy` stops: the `ValueError` propagates to its caller.") in t
    assert n.conclusion == ("So `noisy(5)` raises `ValueError: too big: 5` (raised at line "
                            f"{L('raise')}).")
    assert to_plain(n).endswith("So the function raises ValueError: too big: 5.")
    assert {"prints", "raises", "propagates", "exception"} <= {c.kind for c in n.claims}

    trace, req = run(sandbox, "propagation", "", FEATURES)
    t = texts(narrate(trace, req))
    assert "Back at line 50: the `KeyError` is caught by the handler at line 51." in t
    assert t[-1] == ("Back at line 53: `propagation` stops: the `KeyError` propagates to its "
                     "caller.")
    trace, req = run(sandbox, "calls_and_aliases", "3", FEATURES)
    t = texts(narrate(trace, req))
    assert ("Line 16: `raise ValueError(\"boom\")` raises `ValueError: boom`; the `ValueError` "
            "is caught by the handler at line 17.") in t
    assert "Line 18: `print(\"caught\", e)` prints `'caught boom'`." in t


def test_generators_yield_and_resume(sandbox):
    trace, req = run(sandbox, "generators", "3", FEATURES)
    t = texts(narrate(trace, req))
    assert "Calls `gen(n=3)` from line 37." in t
    assert "Line 32: `yield i * 2`: `gen` yields `2`." in t
    assert "Line 37: resumes `gen`." in t
    assert "Line 31: the loop `for i in range(n):` goes on." in t


def test_runs_that_hit_a_limit_end_with_the_error(sandbox):
    trace, req = run(sandbox, "stubborn", "1", FEATURES, max_steps=2000)
    assert trace.status == "error"
    n = narrate(trace, req)
    assert n.steps and n.conclusion.startswith("The run stopped: stopped after 2,000 steps")
    assert n.conclusion_claims[0].kind == "error"
    assert to_plain(n).splitlines()[-1].startswith("The run stopped:")
    trace, req = run(sandbox, "plain_loop", "100", max_events=50)
    assert trace.truncated
    n = narrate(trace, req)
    assert "were not recorded" in n.conclusion and n.conclusion.endswith("returns `4950`.")
    assert not any("stays" in s.text for s in n.steps[-1:])     # last line's effect unknown
    b = narrate_backward(trace, req)
    assert "cannot be traced back" in b.steps[0].text


def test_backward_chain_reaches_the_parameters(sandbox):
    trace, req = run(sandbox, "histogram", "[1, 1, 3, 1, 2]", HISTOGRAM)
    b = narrate_backward(trace, req)
    t = texts(b)
    assert t[0] == ("The output `[(1, 3), (3, 1), (2, 1)]` is what `histogram` returns at "
                    "line 18: `return pairs`.")
    assert t[1].startswith("`pairs` was set to `[(1, 3), (3, 1), (2, 1)]` at line 16 by "
                           "`pairs = list(counts.items())`")
    assert t[2].startswith("`counts` was set to `{}` at line 10")
    assert "line 15 (`counts[v] = 1`) and line 13 (`counts[v] += 1`) in the loop at line 11, " \
           "ending as `{1: 3, 3: 1, 2: 1}`" in t[2]
    assert t[3].startswith("`v` is the loop variable of `for v in values:` (line 11); it took "
                           "1, 1, 3, 1, 2")
    assert t[4] == "`values` is an argument of the call: `values = [1, 1, 3, 1, 2]`."
    assert [s.depth for s in b.steps] == [0, 1, 2, 3, 4]
    assert b.conclusion == "So the output comes from the argument `values = [1, 1, 3, 1, 2]`."
    plain = to_plain(b)
    assert plain.startswith("Let's reason backwards from the output:\n1. The function returns "
                            "at line 18 (return pairs), and the output is [(1, 3), (3, 1), "
                            "(2, 1)].")
    assert {"returns", "binds", "mutates", "value", "result"} <= {c.kind for c in b.claims}


def test_backward_is_honest_about_what_does_not_flow(sandbox):
    trace, req = run(sandbox, "pick", "3, True")
    b = narrate_backward(trace, req)
    assert b.conclusion == ("So the output comes from the argument `a = 3`. The value of `b` "
                            "does not flow into it (it may still decide which lines run).")
    trace, req = run(sandbox, "calls_and_aliases", "3", FEATURES)
    t = texts(narrate_backward(trace, req))
    assert any(s.startswith("`alias` was set to `[]` at line 11 by `alias = out`, then changed "
                            "in place at line 15") for s in t)
    # through nested calls: an argument of a callee leads back to its call site
    trace, req = run(sandbox, "propagation", "", FEATURES)
    b = narrate_backward(trace, req)
    assert b.steps[0].text == ("The call raises `KeyError` at line 44 in `boom`: "
                               "`raise KeyError(k)`.")
    assert "`boom` was called at line 45 by `return boom(k - 1)`" in b.steps[1].text
    assert "`boom` was called at line 53 by `boom(1)` in `propagation`" in b.steps[2].text


def test_markdown_marks_need_verdicts():
    from tracecot.tracer.verification.verdicts import ClaimVerdict
    from tracecot.tracer.verification.verify import Verification
    from tracecot.tracer.narration.narrate import Claim, Narrative, Step, TraceSummary
    c1 = Claim("binds", 2, "x", encode(1), 2, 0)
    c2 = Claim("binds", 3, "y", encode(5), 4, 0)
    n = Narrative(None, TraceSummary("f", "f()", "returned", encode(1)),
                  [Step(1, 0, 2, "Line 2: `x = 1` sets `x` to `1`.", [c1]),
                   Step(2, 1, 3, "Line 3: `y = 5` sets `y` to `5`.", [c2])],
                  "So `f()` returns `1`.")
    plain_md = to_markdown(n)
    assert "✓" not in plain_md and "✗" not in plain_md
    assert "- **1.** Line 2" in plain_md and "  - **2.** Line 3" in plain_md
    v = Verification(verified=False, verdicts=[ClaimVerdict(c1, "ok"),
                                               ClaimVerdict(c2, "wrong", actual=encode(6))])
    md = to_markdown(n, v)
    assert "✗ NOT verified: 1/2 claims" in md
    assert "sets `x` to `1`. ✓" in md and "sets `y` to `5`. ✗ (really y `6`)" in md


def test_line_helpers():
    assert code_text("    x = 1  # set x") == "x = 1"
    assert code_text("    s = '#' * 3") == "s = '#' * 3"
    assert branch_header("    if v in counts:") == ("if", "v in counts")
    assert branch_header("  elif a > b:  # c") == ("elif", "a > b")
    assert branch_header("    while n != 1:") == ("while", "n != 1")
    assert branch_header("    if x: return 1") is None
    assert branch_header("    for x in y:") is None
    assert names_read("        counts[v] += 1") == ["counts", "v"]
    assert names_read("    for v in values:") == ["values"]
    assert names_read("    total += helper(out)") == ["total", "helper", "out"]
    assert names_read("    return (a +") == ["a"]          # no parse: the names it mentions


CLASSES = '''\
class P:
    def __init__(self, x):
        self.x = x


class N:
    def __new__(cls, v):
        inst = super().__new__(cls)
        inst.made = True
        return inst

    def __init__(self, v):
        self.v = v
'''


def test_calling_a_class_narrates_its_new_and_init(sandbox):
    trace, req = run(sandbox, "P", "3", source=CLASSES)
    n = narrate(trace, req)
    assert texts(n)[0] == "Calling `P` makes a new instance and calls `P.__init__` with " \
                          "`self = P()` and `x = 3`."
    # __new__ and __init__ are both top-level calls of the run: both are told, in order
    trace, req = run(sandbox, "N", "3", source=CLASSES)
    n = narrate(trace, req)
    got = texts(n)
    assert got[0] == "Calling `N` first calls `N.__new__` with `cls = <class N>` and `v = 3`."
    then = next(i for i, t in enumerate(got) if t.startswith("Then `N.__init__` is called"))
    assert then > 0 and "`self = N(made=True)`" in got[then], got
    assert any("changes `self` in place to `N(made=True, v=3)`" in t for t in got[then + 1:]), got
    (v,) = verify_many([n], sandbox)
    assert v.verified and len(v.verdicts) == len(n.claims), [str(x) for x in v.verdicts]
    # backward: the output is the instance __init__ leaves, not what __init__ returns (None)
    for function, first, source in (
            ("P", "The output `P(x=3)` is the new instance, `self` in `P.__init__` as it "
                  "returns at line 3: `self.x = x`.", "`x = 3`"),
            ("N", "The output `N(made=True, v=3)` is the new instance, `self` in "
                  "`N.__init__` as it returns at line 13: `self.v = v`.", "`v = 3`")):
        trace, req = run(sandbox, function, "3", source=CLASSES)
        b = narrate_backward(trace, req)
        assert texts(b)[0] == first, texts(b)
        assert source in b.conclusion, b.conclusion
        (v,) = verify_many([b], sandbox)
        assert v.verified, [str(x) for x in v.verdicts]


def test_an_exception_raised_outside_the_traced_lines_says_so(sandbox):
    # __init__ returned 5: Python raises the TypeError after it, at no line of the file
    trace, req = run(sandbox, "Ret", "",
                     source="class Ret:\n    def __init__(self):\n        return 5\n")
    n = narrate(trace, req)
    assert n.conclusion.startswith("So `Ret()` raises `TypeError: __init__() should return "
                                   "None, not 'int'` (raised outside the traced lines)."), \
        n.conclusion
