"""`tracecot` command line: a thin layer over the plain Python API.

    tracecot run FILE:FUNC [ARGS]       trace as JSON
    tracecot explain FILE:FUNC [ARGS]   verified narrative (rich text)
    tracecot verify FILE:FUNC [ARGS]    re-check every claim; exit 1 if any fails
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
    where = f" (line {err.line})" if err.line else ""
    print(f"tracecot: {err.kind.replace('_', ' ')}{where}: {err.message}", file=sys.stderr)


def cmd_run(ns) -> int:
    from tracecot.tracer import to_json
    with _sandbox(ns) as sb:
        trace = sb.run(_request(ns))
    json.dump(to_json(trace), sys.stdout, indent=ns.indent, ensure_ascii=False)
    sys.stdout.write("\n")
    if not trace.ok:
        _print_error(trace)
        return EXIT_RUN_FAILED
    return EXIT_OK


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracecot", description="Verified explanations of what Python code does.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run", help="run a function in the sandbox, print its trace as JSON",
                       description="Run FUNC from FILE on ARGS in the sandbox; print the trace.")
    _add_run_options(p)
    p.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")
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
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        print(f"tracecot: this command is not available ({e})", file=sys.stderr)
        return EXIT_USAGE
    return int(mod.main(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # argparse.REMAINDER drops a remainder that starts with an option (`serve --tcp`):
    # delegated commands get their arguments untouched.
    delegated = {"serve": "tracecot.server.lsp", "eval": "tracecot.model.evaluate",
                 "data": "tracecot.model.data.build", "train": "tracecot.model.training",
                 "predict": "tracecot.model.predict_cli"}
    if argv and argv[0] in delegated:
        run = lambda: _delegate(delegated[argv[0]], argv[1:])  # noqa: E731
    else:
        ns = build_parser().parse_args(argv)
        run = lambda: ns.func(ns)  # noqa: E731
    try:
        return run()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:          # e.g. `tracecot run ... | head`
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
