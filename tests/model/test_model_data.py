"""`tracecot data build`: the generator, harvest, decontamination, verification of every
written record, and reproducibility of the shards."""

import ast
import json
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tracecot.model import prompts as P
from tracecot.model.data.build import BuildConfig, build, main
from tracecot.model.data.decontaminate import Decontaminator
from tracecot.model.data.fingerprint import constructs, methods, program_hash
from tracecot.model.data.generate import generate_program
from tracecot.model.data.harvest import harvest
from tracecot.model.data.prune import prune_dead
from tracecot.model.data.shards import read_records
from tracecot.model.extract import extract_input, extract_output
from tracecot.tracer import RunRequest, verify_text
from tracecot.tracer.datasets import cruxeval_tasks

FIELDS = ["id", "source", "kind", "mode", "code", "function", "args", "output", "reasoning"]


def _cfg(out, **kw) -> BuildConfig:
    base = dict(out=str(out), programs=12, seed=3, harvest=False, workers=1,
                tokenizer="proxy", progress=False)
    return BuildConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("data") / "build"
    stats = build(_cfg(out, programs=16, valid_permille=250))
    return out, stats


# ------------------------------------------------------------------------------ generator

def test_generator_is_seeded_and_reproducible():
    a = [generate_program(7, i).code for i in range(20)]
    b = [generate_program(7, i).code for i in range(20)]
    c = [generate_program(8, i).code for i in range(20)]
    assert a == b
    assert a != c
    for code in a:
        compile(code, "<generated>", "exec")
        assert code.startswith("def ") and "def f(" in code


def test_generator_covers_the_constructs_and_methods():
    seen, called, hashes = Counter(), Counter(), set()
    for i in range(400):
        p = generate_program(11, i)
        if p is None:
            continue
        seen.update(constructs(p.code))
        called.update(methods(p.code))
        hashes.add(program_hash(p.code))
    wanted = {"for loop", "while loop", "nested loop", "if", "if/else", "early return",
              "list comprehension", "dict comprehension", "generator expression", "slice",
              "helper call", "in-place mutation", "item assignment", "lambda",
              "conditional expression", "f-string", "break", "augmented assignment"}
    assert wanted <= set(seen), wanted - set(seen)
    for m in [".upper()", ".replace()", ".split()", ".join()", ".append()", ".pop()",
              ".sort()", ".get()", ".items()", ".count()", "sorted()", "len()", "enumerate()"]:
        assert called[m] > 0, m
    assert len(hashes) > 350          # diverse: few programs share a normalised AST


def test_prune_removes_dead_stores_only():
    tree = ast.parse(textwrap.dedent("""
        def f(xs, s):
            acc = []
            acc.append(1)
            n = 0
            for c in s:
                n += 1
            v = xs.pop() if xs else 0
            return s.upper()
    """))
    prune_dead(tree.body[0])
    code = ast.unparse(tree)
    assert "acc" not in code and "n +=" not in code and "for c in s" not in code
    assert "xs.pop()" in code          # it changes xs too: kept


def test_program_hash_ignores_names_and_docstrings():
    a = "def f(nums):\n    out = []\n    for n in nums:\n        out.append(n * 2)\n    return out"
    b = ('def g(values):\n    """Doubles."""\n    res = []\n    for v in values:\n'
         '        res.append(v * 2)\n    return res')
    c = a.replace("n * 2", "n * 3")
    assert program_hash(a) == program_hash(b)
    assert program_hash(a) != program_hash(c)


# ------------------------------------------------------------------------------ decontamination

def test_decontamination_catches_cruxeval_copies():
    tasks = cruxeval_tasks()
    dec = Decontaminator.from_benchmarks()
    original = tasks[0].code
    renamed = original.replace("nums", "values").replace("output", "res")
    assert renamed != original
    edited = tasks[5].code.replace("def f(", "def my_function(") + "\n"
    for code in (original, renamed, edited):
        hit = dec.check(code)
        assert hit is not None and hit.benchmark == "cruxeval", code
    assert dec.check("def f(a, b):\n    return sorted(a)[b:] + [len(b)] * 3") is None


def _project(tmp: Path, with_cruxeval: bool = False) -> Path:
    root = tmp / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "textutil.py").write_text(textwrap.dedent('''
        import random


        def squash(text, sep):
            """Collapse runs of `sep`.

            >>> squash('a--b---c', '-')
            'a-b-c'
            """
            out = []
            for part in text.split(sep):
                if part:
                    out.append(part)
            return sep.join(out)


        def shout(word):
            print(word)
            return word.upper()


        def pick(items):
            return random.choice(items)


        def initials(words, keep=2):
            letters = [w[0].upper() for w in words if w]
            return '.'.join(letters[:keep])
    '''))
    (root / "tests" / "test_textutil.py").write_text(textwrap.dedent('''
        from textutil import squash, initials


        def test_it():
            assert initials(['ab', 'cd', 'ef'], 3) == 'A.C.E'

            assert squash('x  y', ' ') == 'x y'
    '''))
    if with_cruxeval:
        task = cruxeval_tasks()[0]
        (root / "copied.py").write_text(task.code + "\n")
        renamed = task.code.replace("def f(", "def spread(").replace("nums", "values") \
            .replace("output", "res")
        (root / "renamed.py").write_text(renamed + "\n")
    return root


def test_harvest_reads_doctests_and_test_calls_and_skips_effects(tmp_path):
    counts = Counter()
    cands = {c.function: c for c in harvest(_project(tmp_path), source="project",
                                            counts=counts)}
    assert set(cands) == {"squash", "initials"}        # print() and random are skipped
    assert cands["squash"].args[:2] == ["'a--b---c', '-'", "'x  y', ' '"]
    assert "['ab', 'cd', 'ef'], 3" in cands["initials"].args
    assert "docstring" not in cands["squash"].code and ">>>" not in cands["squash"].code
    assert counts["skipped: may have effects"] == 2


def test_build_from_project_drops_planted_cruxeval(tmp_path):
    root = _project(tmp_path, with_cruxeval=True)
    out = tmp_path / "out"
    stats = build(_cfg(out, programs=0, harvest=True, from_path=str(root)))
    records = list(read_records(out))
    functions = {r["function"] for r in records}
    assert {"squash", "initials"} <= functions
    assert "f" not in functions and "spread" not in functions
    assert stats["programs"]["project: contaminated"] == 2
    assert sum(v for k, v in stats["decontamination"].items() if "cruxeval" in k) == 2
    assert {r["source"] for r in records} == {"project"}
    squash = [r for r in records if r["function"] == "squash" and r["args"] == "'a--b---c', '-'"]
    assert squash and squash[0]["output"] == "'a-b-c'"


# ------------------------------------------------------------------------------ the records

def test_every_written_record_verifies(small_build, sandbox):
    out, stats = small_build
    records = list(read_records(out))
    assert len(records) >= 30
    kinds = Counter((r["kind"], r["mode"]) for r in records)
    assert set(kinds) == {("output", "direct"), ("input", "direct"), ("output", "cot"),
                          ("input", "cot")}
    for r in records:
        assert list(r) == FIELDS
        assert r["id"].startswith(f"{r['source']}-") and r["id"].endswith(
            f"-{r['kind']}-{r['mode']}")
        # The answer: the call really gives the output (a fresh run in the sandbox).
        trace = sandbox.run(RunRequest(function=r["function"], args=r["args"],
                                       source=r["code"], expected=r["output"]))
        assert trace.status == "returned" and trace.comparison.python_equal, r["id"]
        # The reasoning: no sentence is wrong and some are checked, read as the eval reads it.
        if r["mode"] == "cot":
            result = verify_text(r["code"], r["function"], r["args"], r["reasoning"],
                                 sandbox=sandbox)
            verdicts = Counter(s.verdict for s in result)
            assert verdicts["wrong"] == 0 and verdicts["ok"] > 0, r["id"]
        else:
            assert r["reasoning"] == ""
        # The training text is the shared prompt + completion; the eval reads the answer back.
        if r["kind"] == "output":
            spec = P.output_prompt(r["code"], r["function"], r["args"], r["mode"])
        else:
            spec = P.input_prompt(r["code"], r["function"], r["output"], r["mode"])
        reply = spec.prefill + P.completion(r["kind"], r["mode"], r["function"], r["args"],
                                            r["output"], r["reasoning"])
        if r["kind"] == "output":
            assert extract_output(reply, r["function"]) == r["output"]
        else:
            assert extract_input(reply, r["function"]) == r["args"]


def test_split_is_by_program_and_stats_add_up(small_build):
    out, stats = small_build
    train = {r["code"] for r in read_records(out, "train")}
    valid = {r["code"] for r in read_records(out, "valid")}
    assert train and valid and not train & valid
    total = sum(1 for _ in read_records(out))
    assert stats["throughput"]["examples"] == total
    assert stats["examples"]["all"]["train"] + stats["examples"]["all"]["valid"] == total
    saved = json.loads((out / "stats.json").read_text())
    assert saved["coverage"]["generated"]["constructs"]["(programs)"] > 0
    assert saved["tokens"]["means"]["cot"]["mean_target"] > 0


def test_same_seed_gives_byte_identical_shards(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    build(_cfg(a, workers=1))
    build(_cfg(b, workers=2))
    build(_cfg(c, workers=1, seed=4))
    files = sorted(p.name for p in a.glob("*.jsonl"))
    assert files and files == sorted(p.name for p in b.glob("*.jsonl"))
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "train-00000.jsonl").read_bytes() != (c / "train-00000.jsonl").read_bytes()


def test_refuses_to_overwrite_and_reports_bad_paths(tmp_path, capsys):
    out = tmp_path / "o"
    build(_cfg(out, programs=2))
    with pytest.raises(SystemExit, match="already holds a build"):
        build(_cfg(out, programs=2))
    assert main(["build", "--from", str(tmp_path / "missing"), "--out", str(tmp_path / "x")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.slow
def test_stdlib_harvest_gives_verified_examples(tmp_path, sandbox):
    out = tmp_path / "std"
    stats = build(_cfg(out, programs=0, harvest=True, harvest_limit=60, workers=2))
    records = list(read_records(out))
    assert stats["examples"]["stdlib"]["output/direct"] > 0
    for r in records[:40]:
        trace = sandbox.run(RunRequest(function=r["function"], args=r["args"],
                                       source=r["code"], expected=r["output"]))
        assert trace.status == "returned" and trace.comparison.python_equal, r["id"]


def test_an_empty_or_zero_output_is_kept_only_when_no_other_input_gives_a_run(sandbox):
    from tracecot.model.data.examples import Candidate, process
    code = "def f(xs):\n    return [x for x in xs if x > 0]\n"

    def kept(*args):
        out = process(Candidate("generated", code, "f", list(args), "k"), sandbox)
        return {(e.args, e.output) for e in out.examples}, out

    got, out = kept("[-1, 0]", "[3, -2, 5]")
    assert got == {("[3, -2, 5]", "[3, 5]")}, got
    assert out.drops["uninformative output (another input was kept)"] == 1
    got, _ = kept("[-1, 0]", "'not a list'", "[-4]")    # nothing better: the first empty one
    assert got == {("[-1, 0]", "[]")}, got
    got, _ = kept("[7]", "[]")                           # the first good run ends the search
    assert got == {("[7]", "[7]")}, got
