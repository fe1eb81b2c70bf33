#!/usr/bin/env bash
# benchmarks/tracer_overhead.py on other interpreters (3.12+: our sys.monitoring backend), one
# after the other:
#
#     bash benchmarks/tracer_overhead_pythons.sh [python3.12 python3.13 ...] [-- ARGS]
#
# With no interpreter named, the pyenv 3.12 and 3.13 found on this machine. Each gets a venv
# under $XDG_CACHE_HOME/tracecot/bench-venvs holding only PySnooper and snoop; the tracer
# itself is standard library only and is imported from this checkout through a shim
# (tracecot.tracer -> tracer/), so nothing of the project is installed there. ARGS go to
# tracer_overhead.py (e.g. -- --limit 100).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tracecot/bench-venvs"
pythons=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do pythons+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
if [ ${#pythons[@]} -eq 0 ]; then
    for v in 3.12 3.13; do
        p="$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/$v.*/bin/python 2>/dev/null | sort -V | tail -1 || true)"
        if [ -n "$p" ]; then pythons+=("$p"); else echo "no Python $v under pyenv: skipped" >&2; fi
    done
fi
mkdir -p "$cache/shim/tracecot"
ln -sfn "$repo/tracer" "$cache/shim/tracecot/tracer"
for py in "${pythons[@]}"; do
    ver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    venv="$cache/py$ver"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pysnooper, snoop' 2>/dev/null; then
        "$py" -m venv "$venv"
        "$venv/bin/pip" install -q "pysnooper>=1.2" "snoop>=0.6"
    fi
    echo "=== $("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])') ==="
    (cd "$repo" && PYTHONPATH="$cache/shim" "$venv/bin/python" benchmarks/tracer_overhead.py "$@")
done
