"""Runs -> verified training examples.

A `Candidate` is a program, a function and argument lists to try. Each argument list is run
in the sandbox (never in this process); a run that returns gives up to four examples:

    output / direct   code + call      -> the output
    input  / direct   code + output    -> the arguments
    output / cot      code + call      -> forward narrative (plain text) -> the output
    input  / cot      code + output    -> backward narrative (plain text) -> the arguments

Before anything is kept, the call runs a second time with the output as the expected value:
the result must be the same (deterministic) and equal to the output under both `==` and the
canonical encoder (the answer is right). A narrative is kept only when the structured
verifier finds every claim true in that fresh run and `verify_text`, reading the very text
the model will be trained on, finds no wrong sentence and at least one checked one. Every
failure is dropped and counted by reason.
"""

from __future__ import annotations

import ast
import hashlib
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace

SOURCES = ("generated", "stdlib", "project")
CUT_MARK = "the rest of the run is not narrated"


@dataclass
class Example:
    """One training record; the field set and meaning are the contract with `tracecot train`
    (prompt: prompts.output_prompt / input_prompt; target: prompts.completion)."""
    id: str
    source: str          # "generated" | "stdlib" | "project"
    kind: str            # "output" | "input"
    mode: str            # "direct" | "cot"
    code: str            # program source shown to the model
    function: str
    args: str            # Python source of the arguments, as in f(<args>)
    output: str          # Python literal of the result, as the eval harness renders it
    reasoning: str = ""  # narrator plain text ("" for direct)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Candidate:
    source: str
    code: str
    function: str
    args: list[str]
    split_key: str               # same key, same split (train / valid)
    origin: str = ""             # for humans: "seed 0 #17", "textwrap.dedent"
    want: int = 1                # runs to keep at most
    timeout: float = 1.0
    max_steps: int = 50_000


@dataclass
class Limits:
    max_args_chars: int = 200
    max_output_chars: int = 200
    max_events: int = 5_000
    memory_mb: int = 512


@dataclass
class Outcome:
    examples: list[Example] = field(default_factory=list)
    drops: Counter = field(default_factory=Counter)
    runs: int = 0                # argument lists run
    kept_runs: int = 0           # runs that gave at least one example
    sentences: Counter = field(default_factory=Counter)   # "forward ok", "backward unchecked"...
    seconds: float = 0.0


def example_id(source: str, code: str, function: str, args: str, kind: str, mode: str) -> str:
    digest = hashlib.sha1(f"{code}\0{function}\0{args}".encode()).hexdigest()[:12]
    return f"{source}-{digest}-{kind}-{mode}"


def is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def _why_not(trace) -> str:
    if trace.status == "raised" and trace.exception is not None:
        return f"run raised {trace.exception.type}"
    if trace.status == "error" and trace.error is not None:
        return f"run error: {trace.error.kind}"
    return f"run {trace.status}"


def check_reasoning(code: str, function: str, args: str, text: str, fresh,
                    counts: Counter | None = None, direction: str = "") -> str | None:
    """None when `text` passes verify_text on the fresh run as the evaluation reads it (no
    wrong sentence, at least one checked); else why not."""
    from tracecot.tracer import verify_text
    result = verify_text(code, function, args, text, trace=fresh)
    verdicts = Counter(s.verdict for s in result)
    if counts is not None:
        for k, v in verdicts.items():
            counts[f"{direction} {k}"] += v
    if verdicts["wrong"]:
        return "wrong sentence"
    if not verdicts["ok"]:
        return "no sentence checked"
    return None


def _narrated(narrate_fn, trace, request, fresh, code, c: Candidate, args: str,
              direction: str, out: Outcome) -> str | None:
    """The narrator's plain text for this run if it fully verifies, else None (counted)."""
    from tracecot.tracer.narration.narrate import to_plain
    from tracecot.tracer import verify
    try:
        narrative = narrate_fn(trace, request)
        text = to_plain(narrative).strip()
        if CUT_MARK in text:
            out.drops[f"{direction} narrative: cut short"] += 1
            return None
        if not verify(narrative, fresh=fresh).verified:
            out.drops[f"{direction} narrative: a claim does not verify"] += 1
            return None
        why = check_reasoning(code, c.function, args, text, fresh, out.sentences, direction)
    except Exception as e:  # noqa: BLE001 - a narrator bug costs one example, not the build
        out.drops[f"{direction} narrative: {type(e).__name__} in narrator/verifier"] += 1
        return None
    if why:
        out.drops[f"{direction} narrative: {why}"] += 1
        return None
    return text


UNINFORMATIVE = frozenset({"[]", "{}", "()", "set()", "''", "0", "0.0"})


def process(c: Candidate, sandbox, limits: Limits | None = None) -> Outcome:
    """Run the candidate's argument lists (until `c.want` runs are kept) and verify.

    A run whose output is empty or zero (`UNINFORMATIVE`: a loop that matched nothing, a
    filter that kept nothing) is kept only when no other argument list gives a run: such
    outputs were 25.5 % of the output examples of a 3,000-program build, and a small model
    trained on them learns to answer `[]`."""
    from tracecot.tracer import RunRequest
    limits = limits or Limits()
    out = Outcome()
    t0 = time.perf_counter()
    deferred: list = []
    for args in c.args:
        if out.kept_runs >= c.want:
            break
        out.runs += 1
        if len(args) > limits.max_args_chars:
            out.drops["arguments too long"] += 1
            continue
        request = RunRequest(function=c.function, args=args, source=c.code, timeout=c.timeout,
                             max_steps=c.max_steps, max_events=limits.max_events,
                             memory_mb=limits.memory_mb)
        trace = sandbox.run(request)
        output = _usable_output(trace, limits, out.drops)
        if output is None:
            continue
        if output in UNINFORMATIVE:
            deferred.append((args, request, trace, output))
            continue
        _keep(c, sandbox, args, request, trace, output, out)
    for args, request, trace, output in deferred:
        if out.kept_runs >= c.want:
            out.drops["uninformative output (another input was kept)"] += 1
        else:
            _keep(c, sandbox, args, request, trace, output, out)
    out.seconds = time.perf_counter() - t0
    return out


def _usable_output(trace, limits: Limits, drops: Counter) -> str | None:
    """The run's output as a literal when the run can become examples, else None (the
    reason counted in `drops`)."""
    from tracecot.tracer import render
    why, output = None, None
    if trace.status != "returned":
        why = _why_not(trace)
    elif trace.stdout or trace.stderr:
        why = "prints output"
    elif trace.truncated:
        why = "trace truncated"
    else:
        output = render(trace.result)
        if output == "None":
            why = "returns None"      # nothing to predict, nothing to invert
        elif len(output) > limits.max_output_chars:
            why = "output too long"
        elif not is_literal(output):
            why = "output is not a literal"
    if why:
        drops[why] += 1
        return None
    return output


def _keep(c: Candidate, sandbox, args: str, request, trace, output: str, out: Outcome) -> None:
    """Re-run with the output as the expected value; if it checks, add the run's examples."""
    from tracecot.tracer import narrate, narrate_backward, render
    fresh = sandbox.run(replace(request, expected=output))
    if fresh.status != "returned" or render(fresh.result) != output:
        out.drops["not deterministic (second run differs)"] += 1
        return
    cmp = fresh.comparison
    if cmp is None or cmp.error or not (cmp.python_equal and cmp.canonical_equal):
        out.drops["answer does not check against a fresh run"] += 1
        return
    made = [("output", "direct", ""), ("input", "direct", "")]
    forward = _narrated(narrate, trace, request, fresh, c.code, c, args, "forward", out)
    if forward:
        made.append(("output", "cot", forward))
    backward = _narrated(narrate_backward, trace, request, fresh, c.code, c, args,
                         "backward", out)
    if backward:
        made.append(("input", "cot", backward))
    for kind, mode, reasoning in made:
        out.examples.append(Example(example_id(c.source, c.code, c.function, args, kind, mode),
                                    c.source, kind, mode, c.code, c.function, args, output,
                                    reasoning))
    out.kept_runs += 1
