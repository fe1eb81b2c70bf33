"""`tracecot` command line: a thin layer over the plain Python API.

    tracecot run FILE:FUNC [ARGS]       trace as JSON (a summary on a terminal; --json, --out)
    tracecot explain FILE:FUNC [ARGS]   verified narrative (rich text)
    tracecot verify FILE:FUNC [ARGS]    re-check every claim; exit 1 if any fails
    tracecot find-input FILE:FUNC OUTPUT  inputs that make FUNC return OUTPUT, proven by runs
    tracecot eval ...                   model evaluation harness (tracecot.model)
    tracecot data build ...             verified training data (tracecot.model.data)
    tracecot train ...                  fine-tune the model (tracecot.model.training)
    tracecot predict FILE:FUNC ARGS     the model's prediction, ✓/✗ from a real run
    tracecot serve [--tcp]              language server (tracecot.server)

Exit codes: 0 ok, 1 not verified, 2 usage error, 3 the run failed (timeout, syntax error, ...).
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_OK, EXIT_UNVERIFIED, EXIT_USAGE, EXIT_RUN_FAILED = 0, 1, 2, 3


def _target(text: str) -> tuple[str, str]:
    path, sep, func = text.rpartition(":")
    if not sep or not path or not func:
        raise argparse.ArgumentTypeError(f"expected FILE:FUNCTION, got {text!r}")
    return path, func


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", type=_target, metavar="FILE:FUNC",
                   help="Python file and function name, e.g. examples/histogram.py:histogram")
    p.add_argument("args", nargs="?", default="",
                   help="arguments as Python source, e.g. \"[1, 1, 3], key='a'\"")
    p.add_argument("--timeout", type=float, default=2.0, help="wall-clock seconds (default 2)")
    p.add_argument("--max-steps", type=int, default=2_000_000, help="line executions allowed")
    p.add_argument("--max-events", type=int, default=20_000, help="events recorded")
    p.add_argument("--depth", type=int, default=10, help="nesting depth of traced calls")
    p.add_argument("--memory-mb", type=int, default=1024, help="memory limit of the run")
    p.add_argument("--python", default=None,
                   help="interpreter that runs the code (default: this one); 3.12+ uses "
                        "the sys.monitoring backend")


def _request(ns):
    from tracecot.tracer import RunRequest
    path, func = ns.target
    return RunRequest(function=func, args=ns.args, path=path, timeout=ns.timeout,
                      max_steps=ns.max_steps, max_events=ns.max_events, max_depth=ns.depth,
                      memory_mb=ns.memory_mb)


def _sandbox(ns):
    from tracecot.tracer import Sandbox
    return Sandbox(python=ns.python)


def _print_error(trace) -> None:
    err = trace.error
    kind = err.kind.replace("_", " ")
    if err.message.startswith(kind):       # says what and where already (a syntax error)
        print(f"tracecot: {err.message}", file=sys.stderr)
        return
    where = f" (line {err.line})" if err.line else ""
    print(f"tracecot: {kind}{where}: {err.message}", file=sys.stderr)


def cmd_run(ns) -> int:
    """The trace as JSON on stdout when stdout is a pipe or a file (scripts), or with --json;
    to FILE with --out; a terminal gets a summary instead (a capped trace is megabytes)."""
    from tracecot.tracer import to_json
    with _sandbox(ns) as sb:
        trace = sb.run(_request(ns))
    data = json.dumps(to_json(trace), indent=ns.indent, ensure_ascii=False) + "\n"
    if ns.out:
        with open(ns.out, "w", encoding="utf-8") as fh:
            fh.write(data)
    if ns.json or (not ns.out and not sys.stdout.isatty()):
        sys.stdout.write(data)
    else:
        print(run_summary(trace, len(data.encode("utf-8")), ns.out))
    if not trace.ok:
        _print_error(trace)
        return EXIT_RUN_FAILED
    return EXIT_OK


def run_summary(trace, size: int, out: str | None) -> str:
    """A few lines about a run, for a terminal: outcome, what was recorded, where the rest is."""
    from tracecot.tracer import render
    if trace.status == "returned":
        head = f"{trace.call} returned {_cut(render(trace.result), 200)}"
    elif trace.status == "raised" and trace.exception is not None:
        ex = trace.exception
        head = f"{trace.call} raised {ex.type}" + (f": {_cut(ex.message, 200)}" if ex.message
                                                   else "")
    else:
        head = f"{trace.call} did not finish"
    lines = [head, f"  {trace.steps:,} steps, {len(trace.events):,} events recorded"
                   + (" (the event cap was reached: later steps ran unrecorded)"
                      if trace.truncated else "")
                   + f"; {trace.backend or 'no backend'}, Python {trace.python}"]
    printed = len(trace.stdout) + len(trace.stderr)
    if printed:
        lines.append(f"  printed {printed:,} characters")
    where = f"written to {out}" if out else "not shown: --json prints it, --out FILE saves it"
    lines.append(f"  the trace ({size:,} bytes of JSON) is {where}")
    return "\n".join(lines)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more " \
        "characters)"


def _narrate_and_verify(ns):
    from tracecot.tracer.narration.narrate import narrate, narrate_backward
    from tracecot.tracer.verification.verify import verify
    request = _request(ns)
    with _sandbox(ns) as sb:
        trace = sb.run(request)
        if not trace.ok:
            return trace, None, None
        narrative = (narrate_backward if getattr(ns, "backward", False) else narrate)(
            trace, request)
        verification = verify(narrative, sandbox=sb)
    return trace, narrative, verification


def cmd_explain(ns) -> int:
    from tracecot.tracer.narration.narrate import to_markdown, to_plain
    trace, narrative, verification = _narrate_and_verify(ns)
    if narrative is None:
        _print_error(trace)
        return EXIT_RUN_FAILED
    if ns.plain:
        print(to_plain(narrative))
    else:
        from rich.console import Console
        from rich.markdown import Markdown
        from rich.panel import Panel
        console = Console()
        mark = "[green]✓ verified[/]" if verification.verified else "[red]✗ NOT verified[/]"
        console.print(Panel.fit(f"[bold]{trace.call}[/]  {mark}  "
                                f"[dim]{trace.steps} steps, {trace.backend}, "
                                f"Python {trace.python}[/]"))
        console.print(Markdown(to_markdown(narrative, verification)))
    return EXIT_OK if verification.verified else EXIT_UNVERIFIED


def cmd_verify(ns) -> int:
    trace, narrative, verification = _narrate_and_verify(ns)
    if narrative is None:
        _print_error(trace)
        return EXIT_RUN_FAILED
    bad = [v for v in verification.verdicts if v.verdict != "ok"]
    total = len(verification.verdicts)
    print(f"{total - len(bad)}/{total} claims verified against a fresh run of {trace.call}")
    for v in bad:
        print(f"  ✗ {v}")
    return EXIT_OK if verification.verified else EXIT_UNVERIFIED


def cmd_find_input(ns) -> int:
    from tracecot.server.finder import report
    with _sandbox(ns) as sb:
        code, text = report.find_input_cli(ns.target[0], ns.target[1], ns.output, ns.budget,
                                           sb, as_json=ns.json, model=ns.model)
    print(text, file=sys.stdout if code in (EXIT_OK, EXIT_UNVERIFIED) or ns.json
          else sys.stderr)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracecot", description="Verified explanations of what Python code does.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run", help="run a function in the sandbox, print its trace as JSON",
                       description="Run FUNC from FILE on ARGS in the sandbox; print the trace "
                                   "as JSON (to a pipe or a file; a terminal gets a summary).")
    _add_run_options(p)
    p.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")
    p.add_argument("--json", "--full", dest="json", action="store_true",
                   help="print the trace as JSON even on a terminal (a pipe always gets it)")
    p.add_argument("--out", metavar="FILE", help="write the trace as JSON to FILE")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("explain", help="verified step-by-step narrative of a run",
                       description="Narrate a run step by step; every claim is re-checked "
                                   "against a fresh run and marked ✓ or ✗.")
    _add_run_options(p)
    p.add_argument("--backward", action="store_true",
                   help="explain the result backwards, from the output to the arguments")
    p.add_argument("--plain", action="store_true", help="plain text (chain-of-thought style)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("verify", help="check every claim of the narrative against a fresh run",
                       description="Exit 0 when every claim holds, 1 otherwise.")
    _add_run_options(p)
    p.add_argument("--backward", action="store_true", help="verify the backward narrative")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("find-input", help="find inputs that make a function return OUTPUT",
                       description="Search for arguments that make FUNC return OUTPUT; every "
                                   "answer is proven by a sandboxed run. Exit 0 when found, "
                                   "1 when none was found within the budget, 2 for bad "
                                   "usage, 3 when the function fails on every candidate.")
    p.add_argument("target", type=_target, metavar="FILE:FUNC")
    p.add_argument("output", metavar="OUTPUT", help="the wanted result as Python source")
    p.add_argument("--budget", type=float, default=5.0, help="seconds (default 5)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object; its `inputs` lists argument lists, simplest first")
    p.add_argument("--model", action="store_true",
                   help="let the local model propose inputs too (off by default)")
    p.add_argument("--python", default=None, help="interpreter that runs the code")
    p.set_defaults(func=cmd_find_input)

    p = sub.add_parser("eval", help="evaluate a model on CruxEval / HumanEval", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda ns: _delegate("tracecot.model.evaluate", ns.rest))

    p = sub.add_parser("data", help="build verified training data", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda ns: _delegate("tracecot.model.data.build", ns.rest))

    p = sub.add_parser("train", help="fine-tune the model on built data", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda ns: _delegate("tracecot.model.training", ns.rest))

    p = sub.add_parser("predict", help="predict an output (or an input) with the model, "
                                       "checked by a real run", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda ns: _delegate("tracecot.model.predict_cli", ns.rest))

    p = sub.add_parser("serve", help="start the language server", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda ns: _delegate("tracecot.server.lsp", ns.rest))
    return parser


def _delegate(module: str, argv: list[str]) -> int:
    import importlib
    mod = importlib.import_module(module)     # ours: a broken import is a failure, shown
    return int(mod.main(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # argparse.REMAINDER drops a remainder that starts with an option (`serve --tcp`):
    # delegated commands get their arguments untouched.
    delegated = {"serve": "tracecot.server.lsp", "eval": "tracecot.model.evaluate",
                 "data": "tracecot.model.data.build", "train": "tracecot.model.training",
                 "predict": "tracecot.model.predict_cli"}
    if argv and argv[0] in delegated:
        module, rest = delegated[argv[0]], argv[1:]

        def run() -> int:
            return _delegate(module, rest)
    else:
        ns = build_parser().parse_args(argv)

        def run() -> int:
            return ns.func(ns)
    try:
        return run()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:          # e.g. `tracecot run ... | head`
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
