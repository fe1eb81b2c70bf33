"""Hover latency of the tracecot language server: hover on `def f` -> verified narrative.

Each CruxEval function is written to a file of a temporary workspace with an
`assert f(<input>) == <output>` line (so the server has an input), and the real server is
driven over stdio, one hover at a time:

  first hover   the document was just opened: the run, the narration and the fresh run
                that checks every claim all happen inside the hover request;
  warm hover    the same hover again (the server keeps runs and explanations).

    python benchmarks/hover_latency.py [--n 200] [--data PATH/cruxeval.jsonl]

The data is found as the tracer's dataset loader finds it ($TRACECOT_CRUXEVAL, else the
copy shipped in tracer/datasets/).

Goal (warm): p50 <= 50 ms, p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support import lsp as H  # the tests' LSP client helpers, not the product



def default_data() -> Path:
    from tracecot.tracer.datasets import cruxeval_path
    return cruxeval_path()


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def figures(name: str, ms: list[float]) -> str:
    return (f"{name:<13} n={len(ms):<4} p50 {pct(ms, 50):6.1f} ms   p95 {pct(ms, 95):6.1f} ms   "
            f"mean {statistics.fmean(ms):6.1f} ms   max {max(ms):7.1f} ms")


async def bench(rows: list[dict], root: Path, settle: float) -> dict:
    from pytest_lsp import ClientServerConfig
    client = await ClientServerConfig(server_command=H.SERVER_COMMAND).start()

    await H.start_session(client, root)
    files = []
    for r in rows:
        path = root / f"{r['id']}.py"
        path.write_text(f"{r['code']}\n\n\nassert f({r['input']}) == {r['output']}\n")
        files.append(path)
    # Start the sandbox and load the narrator once (not part of any measurement).
    warm_uri = H.open_doc(client, files[0])
    await H.hover(client, warm_uri, H.line_of(files[0].read_text(), "def f"), 5, timeout=60)

    first, warm, verified, failed = [], [], 0, []
    uris = []
    for path in files[1:]:
        text = path.read_text()
        uri = H.open_doc(client, path, text)
        line = H.line_of(text, "def f")
        t = time.perf_counter()
        md = await H.hover(client, uri, line, 5, timeout=60)
        first.append((time.perf_counter() - t) * 1000)
        uris.append((uri, line))
        if md and "✓ verified" in md:
            verified += 1
        else:
            failed.append((path.stem, (md or "")[:160]))
    await asyncio.sleep(settle)          # let background refreshes finish
    for uri, line in uris:
        t = time.perf_counter()
        md = await H.hover(client, uri, line, 5, timeout=60)
        warm.append((time.perf_counter() - t) * 1000)
    await client.shutdown_session()
    await client.stop()
    return {"first": first, "warm": warm, "verified": verified, "failed": failed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="CruxEval functions (default 200)")
    ap.add_argument("--data", type=Path, default=None,
                    help="cruxeval.jsonl (default: where the tracer's loader finds it)")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds to wait before the warm pass (default 2)")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    ns = ap.parse_args(argv)
    ns.data = ns.data or default_data()
    if not ns.data.exists():
        print(f"no data at {ns.data}", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in ns.data.read_text().splitlines() if line.strip()]
    rows = rows[: ns.n + 1]
    with tempfile.TemporaryDirectory(prefix="tracecot-hover-") as tmp:
        t = time.perf_counter()
        res = asyncio.run(bench(rows, Path(tmp), ns.settle))
        wall = time.perf_counter() - t
    n = len(res["first"])
    print(f"hover -> verified narrative over LSP, {n} CruxEval functions ({wall:.0f} s)")
    print(figures("first hover", res["first"]))
    print(figures("warm hover", res["warm"]))
    print(f"verified narratives: {res['verified']}/{n}")
    for stem, md in res["failed"][:10]:
        print(f"  not verified: {stem}: {md!r}")
    ok = pct(res["warm"], 50) <= 50 and pct(res["warm"], 95) <= 150
    print(f"goal (warm p50 <= 50 ms, p95 <= 150 ms): {'met' if ok else 'NOT met'}")
    if ns.json:
        print(json.dumps({k: (round(pct(v, 50), 1), round(pct(v, 95), 1))
                          for k, v in (("first", res["first"]), ("warm", res["warm"]))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
