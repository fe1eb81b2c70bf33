"""The input finder: "what input gives this output", every answer proven by a sandboxed run.

    from tracecot.server.finder import Problem, find, sandbox_runner
    res = await find(Problem(source, "f", "'olleh'"), sandbox_runner(sandbox), budget=2)
    res.found[0].args      # "'hello'", simplest first; .stage says how it was found

Modules: types (argument types from how parameters are used), blocks (building blocks and
inverse guesses), undo (inverse guesses that read the code or split the target among the
arguments), batch (many candidates per sandbox run), hangs (what a looping candidate may
cost, which values to put aside), edits (the search's edits and repairs), search (the
stages, shrinking, proof), solvers (Hypothesis and CrossHair in a locked-down process),
mutate (the value mutations of the first finder, still used by the search stage and by
`search`).
"""

from .batch import Outcome, Problem, run_batch, sandbox_runner
from .mutate import (Found, SearchResult, candidates, closeness, format_args, neighbours,
                     parse_args, parse_target, search, seeds, sorted_or)
from .search import FindResult, find
# The package's `search` is the first finder's function (its callers predate the package);
# the module of the same name stays importable as tracecot.server.finder.search.
from .mutate import search  # noqa: F811

__all__ = ["Outcome", "Problem", "run_batch", "sandbox_runner", "Found", "SearchResult",
           "candidates", "closeness", "format_args", "neighbours", "parse_args", "parse_target",
           "search", "seeds", "sorted_or", "FindResult", "find"]
