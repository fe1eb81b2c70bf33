"""Pure parts of the model package: answer extraction, pass@k, prompts, call parsing, chart."""

import math
import struct
import zlib

import pytest

from tracecot.model import prompts as P
from tracecot.model.chart import _FONT, bar_chart
from tracecot.model.extract import (answer_block, extract_input, extract_output, fenced_block,
                                    is_arguments, is_expression, longest_expression,
                                    split_assert)
from tracecot.model.metrics import mean_pass_at_k, pass_at_k, verified_pass_at_k
from tracecot.model.predict import default_function, parse_call, split_reasoning


@pytest.mark.parametrize("text, want", [
    ("[ANSWER]\nassert f([1, 2]) == [2, 1]\n[/ANSWER]", "[2, 1]"),
    ("[ANSWER]assert f('a') == 'b'[/ANSWER]", "'b'"),
    # prefilled answer: the opening tag was in the prompt, the model closed it
    ("assert f(3) == 9\n[/ANSWER]", "9"),
    # unterminated block (generation cut at max tokens after a complete line)
    ("Reasoning...\n[ANSWER]\nassert f(3) == {'a': (1, 2)}\n", "{'a': (1, 2)}"),
    # the last block wins over earlier mentions in the reasoning
    ("First [ANSWER]assert f(1) == 0[/ANSWER] then [ANSWER]assert f(1) == 5[/ANSWER]", "5"),
    ("```python\nassert f(x) == 'hello world'\n```", "'hello world'"),
    ("assert f('x') == 'x == y'", "'x == y'"),
    ("The output is 42.", "42"),
    ("f returns [1, 2, 3] because the list is sorted", "[1, 2, 3]"),
    ("assert f(1) == (1, 'a') # the tuple", "(1, 'a')"),
    ("[ANSWER]\nassert f('a') == 'abc' and more words\n[/ANSWER]", "'abc'"),
    ("assert f(a=1, b=[2]) == True", "True"),
    ("'just a literal'", "'just a literal'"),
    ("assert f(1) == \n[/ANSWER]", None),
    ("assert f(1) == I think it is hard", None),
    ("assert f(1) == Counter({'a': 2})", "Counter({'a': 2})"),
    ("assert f(1) == x", None),
    ("I do not know.", None),
    ("", None),
])
def test_extract_output(text, want):
    assert extract_output(text) == want


def test_extract_output_other_function_name():
    assert extract_output("assert histogram([1]) == {1: 1}", "histogram") == "{1: 1}"


@pytest.mark.parametrize("text, want", [
    ("[ANSWER]\nassert f([1, 2], 'x') == 3\n[/ANSWER]", "[1, 2], 'x'"),
    # direct input prefill stops at ") == ": the call is incomplete but the arguments are there
    ("[ANSWER]\nassert f('abc', 2) == ", "'abc', 2"),
    ("[ANSWER]\nassert f(')', 'a(b') == 'x'\n[/ANSWER]", "')', 'a(b'"),
    ("assert f(text='hi', n=3) == 'hihihi'", "text='hi', n=3"),
    ("```\nf([3, 1])\n```", "[3, 1]"),
    ("So the input can be f({'a': 1}) which returns 1.", "{'a': 1}"),
    ("[ANSWER]\nassert f() == 0\n[/ANSWER]", ""),
    ("no idea at all", None),
    ("The output is [1, 2], so the input is [2, 1].\nDone.", "[2, 1]"),
    ("So the input could be 'abc' since it works", "'abc'"),
    # the model repeated the call inside the prefilled "assert f(": unwrapped
    ("[ANSWER]\nassert f(f('x', 10)) == ", "'x', 10"),
    ("[ANSWER]\nassert f(f(1) + f(2)) == ", "f(1) + f(2)"),
])
def test_extract_input(text, want):
    assert extract_input(text) == want


def test_extract_helpers():
    assert answer_block("x [ANSWER] a [/ANSWER] y") == " a "
    assert answer_block("no tags") is None
    assert fenced_block("```py\ncode\n```") == "code\n"
    assert fenced_block("```\nunterminated") == "unterminated"
    assert is_expression("[1, (2, 3)]") and not is_expression("[1, 2") and not is_expression(" ")
    assert is_arguments("1, x=2") and is_arguments("") and not is_arguments("1, 2)")
    assert longest_expression("[1, 2] since it sorts") == "[1, 2]"
    assert split_assert("assert f(1, 2) == 3") == ("1, 2", "3")
    assert split_assert("assert g(1) == 3") is None
    # truncated line falls back to the bracket scanner
    assert split_assert("assert f('a)', [1]) == [1, 2") == ("'a)', [1]", None)


def test_extraction_never_evaluates():
    # A reply that would have side effects if evaluated is only parsed.
    reply = "assert f(1) == __import__('os').system('touch /tmp/tracecot-pwned')"
    assert extract_output(reply) is None          # not a value: attribute access
    assert extract_output("assert f(1) == open('/tmp/tracecot-pwned', 'w')") is not None
    import os
    assert not os.path.exists("/tmp/tracecot-pwned")


def _naive_pass_at_k(n, c, k):
    return 1 - math.comb(n - c, k) / math.comb(n, k)


@pytest.mark.parametrize("n, c, k", [(1, 0, 1), (1, 1, 1), (10, 3, 1), (10, 3, 5), (20, 0, 10),
                                     (20, 19, 2), (100, 7, 10), (5, 5, 5)])
def test_pass_at_k_matches_combinatorial_formula(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(_naive_pass_at_k(n, c, k))


def test_pass_at_k_edges():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 8, 5) == 1.0            # fewer than k failures: always passes
    assert 0.0 <= pass_at_k(10_000, 1, 100) <= 1.0
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 6)
    assert mean_pass_at_k([(2, 1), (2, 0)], 1) == pytest.approx(0.25)
    assert verified_pass_at_k([[False, True], [False, False]]) == 0.5
    assert verified_pass_at_k([]) == 0.0


def test_direct_prompts_share_a_prefix_and_prefill_the_answer():
    a = P.output_prompt("def f(x):\n    return x", "f", "1")
    b = P.output_prompt("def f(s):\n    return s * 2", "f", "'q'")
    assert a.messages[:3] == b.messages[:3]      # system + worked example: KV-cacheable
    assert a.prefill == "[ANSWER]\nassert f(1) =="
    assert "assert f('q') == ??" in b.messages[-1]["content"]
    i = P.input_prompt("def f(x):\n    return x", "f", "[1]")
    assert i.prefill.endswith("assert f(") and "assert f(??) == [1]" in i.messages[-1]["content"]
    with pytest.raises(ValueError):
        P.output_prompt("def f(): pass", "f", "", mode="fancy")


def test_cot_prompts_use_narrator_style_reasoning():
    out = P.output_prompt("def f(x):\n    return x", "f", "1", mode="cot")
    assert P.EXAMPLE_FORWARD in out.messages[2]["content"]
    assert out.prefill == "" and out.stop == ("[/ANSWER]",)
    inp = P.input_prompt("def f(x):\n    return x", "f", "1", mode="cot")
    assert P.EXAMPLE_BACKWARD in inp.messages[2]["content"]


def test_render_without_chat_template():
    class Tok:
        chat_template = None
    text = P.render(Tok(), P.output_prompt("def f(x):\n    return x", "f", "2"))
    assert text.startswith("### System\n") and text.endswith("assert f(2) ==")


def test_parse_call_and_default_function():
    code = "def helper(x):\n    return x\n\ndef f(a, b=1):\n    return helper(a) + b"
    assert parse_call(code, "f([1], b=2)") == ("f", "[1], b=2")
    assert parse_call(code, "[1, 2]") == ("f", "[1, 2]")
    assert parse_call(code, "helper(3)") == ("helper", "3")
    assert parse_call(code, "max(1, 2)") == ("f", "max(1, 2)")    # a call *as an argument*
    assert default_function("def g():\n    pass\ndef h():\n    pass") == "h"
    assert default_function("def broken(:") == "f"
    assert split_reasoning("step 1.\nstep 2.\n[ANSWER]\nx\n[/ANSWER]") == "step 1.\nstep 2."


def _png_pixels(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    w, h = struct.unpack(">II", chunks[b"IHDR"][:8])
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == h * (1 + 3 * w)
    return w, h, raw


def test_chart_png_is_valid(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    path = bar_chart(tmp_path / "c.png", "CruxEval-O direct", [("pass@1", 0.25), ("answered", 1.0)],
                     "tiny - 5 tasks")
    w, h, raw = _png_pixels(path.read_bytes())
    assert w >= 480 and h == 360
    assert len(set(raw)) > 3                     # not a blank image
    assert all(len(g) == 5 and set(g) <= set("01234567") for g in _FONT.values())


@pytest.mark.parametrize("kind, mode", [("output", "direct"), ("input", "direct"),
                                        ("output", "cot"), ("input", "cot")])
def test_training_completion_reads_back_as_the_answer(kind, mode):
    code, args, output = "def f(xs, k):\n    return xs[k:]", "[1, 2, 3], 1", "[2, 3]"
    reasoning = "f is called with xs = [1, 2, 3] and k = 1." if mode == "cot" else ""
    spec = (P.output_prompt(code, "f", args, mode) if kind == "output"
            else P.input_prompt(code, "f", output, mode))
    reply = spec.prefill + P.completion(kind, mode, "f", args, output, reasoning)
    got = extract_output(reply, "f") if kind == "output" else extract_input(reply, "f")
    assert got == (output if kind == "output" else args)
    if mode == "cot":
        assert reply.startswith(reasoning)
    with pytest.raises(ValueError):
        P.completion(kind, "cot", "f", args, output, "")
