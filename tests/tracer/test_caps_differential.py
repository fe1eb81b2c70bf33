"""Differential test of issue 16: generated programs run under randomly drawn caps; every ✓ of
every narrative (forward and backward) must hold against oracles that share none of the caps.

Oracle A: the same program re-run in the sandbox with no event, step, time or memory cap (the
record is complete to the end), every claim checked there (`check_against`). The depth and
output caps are the drawn ones: they leave frames and OUTPUT events out rather than cutting
the record, so both records are the same events, index for index; oracle B covers them.
Oracle B: an independent counter. The program is rewritten (AST) so that each loop counts its
own iterations, per run, and `print` keeps what each call printed, in plain Python, and run in
the sandbox with no cap at all (depth included). Every ✓ loop count must be one of the counts
of that loop's runs; every ✓ print must be the text of whole print calls in a row.
The same for `verify_text` (the model's reasoning): the narratives' plain text, plus "The loop
runs N times." for every N a loop shows in the cut record, checked on the capped trace; a ✓
must not be wrong on the complete one, nor contradict the independent counts.

A ✓ that either oracle refutes fails the test, and so do line counts of a run that finished
under its caps that differ from the complete run's (they are kept outside the event budget).
User code only ever runs in the sandbox.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass, replace

import pytest

from tracecot.model.data.generate import generate_program
from tracecot.model.data.inputs import args_source
from tracecot.tracer import RunRequest
from tracecot.tracer.narration.analysis import LoopRun, analyse
from tracecot.tracer.narration.narrate import narrate, narrate_backward, to_plain
from tracecot.tracer.verification.verify import check_against, verify_many
from tracecot.tracer.verification.verify_text import verify_text

ORACLE_CAPS = dict(max_events=400_000, max_steps=20_000_000, timeout=20.0, memory_mb=2048)

# Hand-written shapes the generator does not make: recursion (the depth cap), generators,
# exceptions caught and not, while/break, prints of every size (the output cap).
TEMPLATES = [
    ('''\
def walk(xs, depth):
    total = 0
    for x in xs:
        print("v" * x)
        total += x
    if depth > 0:
        total += walk(xs[1:], depth - 1)
    return total
''', "walk", lambda r: f"{[r.randint(0, 60) for _ in range(r.randint(0, 8))]}, "
                       f"{r.randint(0, 6)}"),
    ('''\
def gen(n):
    for i in range(n):
        yield i * i


def use(n):
    out = []
    for v in gen(n):
        if v % 3 == 0:
            print(v)
        out.append(v)
    return out
''', "use", lambda r: str(r.randint(0, 40))),
    ('''\
def parse(words):
    good = 0
    for w in words:
        try:
            good += int(w)
        except ValueError:
            print("bad", w)
    k = 0
    while k < len(words):
        if words[k] == "stop":
            break
        k += 1
    if good > 50:
        raise ValueError("too big")
    return good, k
''', "parse", lambda r: str([r.choice(["1", "7", "x", "stop", "20", "yy"])
                             for _ in range(r.randint(0, 12))])),
    ('''\
def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)


def table(n):
    rows = []
    i = 0
    while i < n:
        rows.append(fact(i % 7))
        i += 1
    return rows
''', "table", lambda r: str(r.randint(0, 30))),
]


def _print_in_loops(code: str, rng: random.Random) -> str:
    """The program with prints of random sizes at the top of some loop bodies."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.While)) and rng.random() < 0.6:
            stmt = ast.parse(f"print({'p' * rng.randint(0, 120)!r})").body[0]
            node.body.insert(0, stmt)
    return ast.unparse(ast.fix_missing_locations(tree))


class _Counted(ast.NodeTransformer):
    """Each loop counts its iterations in `_tc_runs[header line][run]` (a local run number)."""

    def generic_visit(self, node):
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            out = []
            for s in stmts:
                if isinstance(s, (ast.For, ast.While)):
                    k = f"_tc_k{s.lineno}"
                    out.append(ast.parse(f"{k} = _tc_start({s.lineno})").body[0])
                    s.body.insert(0, ast.parse(f"_tc_runs[{s.lineno}][{k}] += 1").body[0])
                out.append(s)
            setattr(node, field, out)
        return node


def counted_source(code: str, function: str) -> str:
    tree = _Counted().visit(ast.parse(code))
    return ast.unparse(ast.fix_missing_locations(tree)) + f'''

_tc_runs = {{}}
_tc_out = []


def print(*args, sep=" ", end="\\n", **kw):
    _tc_out.append(sep.join(map(str, args)) + end)


def _tc_start(line):
    runs = _tc_runs.setdefault(line, [])
    runs.append(0)
    return len(runs) - 1


def _tc_oracle(*args):
    try:
        {function}(*args)
    except Exception:
        pass
    return repr((sorted(_tc_runs.items()), _tc_out))
'''


def whole_prints(value: dict, printed: list[str]) -> bool:
    """Is the claimed text (an encoding, maybe cut to its first characters) that of whole
    print calls in a row?"""
    text, length = value["v"], value.get("len", len(value["v"]))
    for i in range(len(printed)):
        got = ""
        for piece in printed[i:]:
            got += piece
            if len(got) >= length:
                break
        if len(got) == length and got.startswith(text):
            return True
    return False


def printed_in_a_row(want: str, printed: list[str]) -> bool:
    """Is `want` what print calls in a row printed (its final newline aside)?"""
    for i in range(len(printed)):
        got = ""
        for piece in printed[i:]:
            got += piece
            if got.rstrip("\n") == want:
                return True
            if len(got) > len(want) + 1:
                break
    return False


@dataclass
class Case:
    source: str
    function: str
    args: str


def make_case(seed: int) -> Case:
    rng = random.Random(f"caps:{seed}")
    if rng.random() < 0.35:
        code, fn, draw = rng.choice(TEMPLATES)
        return Case(code, fn, draw(rng))
    prog = None
    index = seed
    while prog is None:
        prog = generate_program(7, index)
        index += 100_000
    code = _print_in_loops(prog.code, rng) if rng.random() < 0.7 else prog.code
    return Case(code, prog.function, args_source(list(prog.params), rng, prog.alphabet))


def draw_caps(rng: random.Random) -> dict:
    """Caps small enough to be reached by small programs, any of them, often several."""
    caps = {}
    if rng.random() < 0.8:
        caps["max_events"] = int(10 ** rng.uniform(0.7, 2.4))
    if rng.random() < 0.5:
        caps["output_bytes"] = rng.choice([0, 1, 5, 50, 130, 400, 2000])
    if rng.random() < 0.4:
        caps["max_depth"] = rng.randint(0, 3)
    if rng.random() < 0.3:
        caps["max_steps"] = int(10 ** rng.uniform(1.0, 3.5))
    if rng.random() < 0.05:
        caps["timeout"] = rng.choice([0.02, 0.2])
    if rng.random() < 0.05:
        caps["memory_mb"] = rng.choice([256, 512])
    return caps


def false_ticks(case: Case, caps: dict, sandbox) -> tuple[list[str], dict]:
    """Every ✓ that an oracle refutes (descriptions), and counts for the report."""
    req = RunRequest(function=case.function, args=case.args, source=case.source, **caps)
    trace = sandbox.run(req)
    stats = {"truncated": trace.truncated, "error": trace.status == "error", "ticks": 0,
             "checked": 0}
    if trace.error is not None and trace.error.kind not in ("timeout", "step_limit",
                                                            "memory_limit"):
        return [], stats                    # nothing ran (bad arguments...): nothing to check
    stories = [narrate(trace, req), narrate_backward(trace, req)]
    shown = verify_many(stories, sandbox)
    full = sandbox.run(replace(req, **ORACLE_CAPS))
    count_req = RunRequest(function="_tc_oracle", args=case.args,
                           source=counted_source(case.source, case.function), max_depth=1000,
                           output_bytes=10_000_000, **ORACLE_CAPS)
    counted = sandbox.run(count_req)
    if full.status == "error" or counted.status != "returned":
        stats["oracle_failed"] = True
        return [], stats
    runs, printed = ast.literal_eval(counted.result["v"])
    runs = dict(runs)
    bad = []
    if trace.status != "error" and trace.line_counts != full.line_counts:
        bad.append(f"line counts under the caps {trace.line_counts} != {full.line_counts}")
    for story, verification in zip(stories, shown, strict=True):
        oracle = check_against(story, full)
        for v, o in zip(verification.verdicts, oracle.verdicts, strict=True):
            if not v.ok:
                continue
            stats["ticks"] += 1
            c = v.claim
            if c.kind == "error":           # about the capped run itself: its own re-run
                continue
            stats["checked"] += 1
            if not o.ok:
                bad.append(f"{story.direction}: {o}")
            if c.kind == "loop_count" and c.value["v"] not in runs.get(c.line, []):
                bad.append(f"{story.direction}: loop at line {c.line} runs {c.value['v']} "
                           f"times ✓, but its runs count {runs.get(c.line)}")
            if c.kind == "prints" and not whole_prints(c.value, printed):
                bad.append(f"{story.direction}: line {c.line} prints {c.value} ✓, but no "
                           "print calls in a row printed that")
    bad += text_false_ticks(case, trace, full, stories, runs, printed, stats)
    return bad, stats


def seen_counts(trace, req) -> set[int]:
    """How many iterations each loop run shows in `trace`, complete or not: the numbers a
    reader of a cut record is tempted to state."""
    a = analyse(trace, req)
    out: set[int] = set()

    def walk(nodes):
        for n in nodes:
            if isinstance(n, LoopRun):
                out.add(n.count)
                for body in n.iterations:
                    walk(body)
    for call in a.calls:
        walk(a.structure(call))
    return out


def text_false_ticks(case, trace, full, stories, runs, printed, stats) -> list[str]:
    """verify_text (the model's reasoning): the narratives' plain text, and loop counts read
    off the cut record, checked on the capped trace; a ✓ must hold on the complete one."""
    every = {n for counts in runs.values() for n in counts}
    req = RunRequest(function=case.function, args=case.args, source=case.source)
    guesses = " ".join(f"The loop runs {n} times." for n in sorted(seen_counts(trace, req)))
    bad = []
    for story in stories:
        text = to_plain(story) + " " + guesses
        mode = "forward" if story.direction == "forward" else "backward"
        shown = verify_text(case.source, case.function, case.args, text, trace=trace, mode=mode)
        oracle = verify_text(case.source, case.function, case.args, text, trace=full, mode=mode)
        for v, o in zip(shown.sentences, oracle.sentences, strict=True):
            if v.verdict != "ok":
                continue
            stats["ticks"] += 1
            stats["checked"] += 1
            if o.verdict == "wrong":
                bad.append(f"verify_text {mode}: {v.text!r} ✓, but {o.note or o.actual}")
            for r in v.claims:
                c = r.claim
                if r.verdict == "ok" and c.kind == "loop_count" and c.value not in every:
                    bad.append(f"verify_text {mode}: {v.text!r} ✓, but the loops run "
                               f"{sorted(every)} times")
                want = str(c.value)
                if r.verdict == "ok" and c.kind == "prints" and \
                        want not in "".join(printed).split("\n") and \
                        not printed_in_a_row(want, printed):
                    bad.append(f"verify_text {mode}: {v.text!r} ✓, but never printed")
    return bad


def run_cases(seeds, sandbox) -> dict:
    failures, totals = [], {"cases": 0, "truncated": 0, "error": 0, "ticks": 0, "checked": 0,
                            "oracle_failed": 0}
    for seed in seeds:
        case = make_case(seed)
        caps = draw_caps(random.Random(f"caps-draw:{seed}"))
        bad, stats = false_ticks(case, caps, sandbox)
        totals["cases"] += 1
        for k in ("truncated", "error", "ticks", "checked", "oracle_failed"):
            totals[k] += int(stats.get(k, 0))
        if bad:
            failures.append(f"seed {seed}, caps {caps}, {case.function}({case.args}):\n"
                            + case.source + "\n  " + "\n  ".join(bad[:5]))
    assert not failures, f"{len(failures)} cases with a false ✓:\n" + "\n\n".join(failures[:5])
    return totals


def test_counted_source_counts_each_loop_run(sandbox):
    """The independent counter itself: two runs of a nested loop, one of the outer."""
    src = "def f(n):\n    t = 0\n    for i in range(n):\n        for j in range(i):\n" \
          "            t += j\n    return t\n"
    out = sandbox.run(RunRequest(function="_tc_oracle", args="3",
                                 source=counted_source(src, "f")))
    runs, printed = ast.literal_eval(out.result["v"])
    assert dict(runs) == {3: [3], 4: [0, 1, 2]} and printed == []


def test_no_false_tick_under_random_caps(sandbox):
    totals = run_cases(range(300), sandbox)
    # The draw must reach the caps, or the test proves nothing.
    assert totals["truncated"] >= 60 and totals["error"] >= 8, totals
    assert totals["checked"] >= 1000, totals


@pytest.mark.slow
def test_no_false_tick_under_random_caps_thousands(sandbox):
    totals = run_cases(range(300, 3300), sandbox)
    assert totals["truncated"] >= 600, totals
