"""Prompt formats: CruxEval-like direct prompts and chain-of-thought prompts in the narrator's
plain-text style (forward reasoning for outputs, backward for inputs).

Every prompt is a chat (system, one worked example, the task) rendered with the model's chat
template, plus an assistant *prefill*: the start of the answer is written for the model
("[ANSWER]\\nassert f(x) == "), so a small model only has to produce the value, and the
shared system+example prefix lets the generator reuse its KV cache across tasks.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

SYSTEM = "You are an expert Python programmer. You predict exactly what Python code does."

DIRECT_OUTPUT_RULES = (
    "Complete the assertion with the exact value the function returns for the given input, "
    "written as a Python literal. Give only the completed assertion in [ANSWER] tags, "
    "even if the function looks wrong.")
DIRECT_INPUT_RULES = (
    "Find any input such that calling the function on it returns the given output. "
    "Give only one passing assertion in [ANSWER] tags.")
COT_OUTPUT_RULES = (
    "Run the function on the given input step by step, one short sentence per step, saying "
    "how each variable changes. Then give the completed assertion in [ANSWER] tags.")
COT_INPUT_RULES = (
    "Reason backwards from the output, one short sentence per step, to an input that "
    "produces it. Then give one passing assertion in [ANSWER] tags.")

# One worked example per task kind; tests check that each CoT sentence verifies "ok".
EXAMPLE_CODE = (
    "def f(nums):\n"
    "    total = 0\n"
    "    for n in nums:\n"
    "        if n % 2 == 0:\n"
    "            total += n\n"
    "    return [total, len(nums)]")
EXAMPLE_ARGS = "[3, 4, 6]"
EXAMPLE_OUTPUT = "[10, 3]"
# Exactly the narrator's plain text (tracer.narration.to_plain) for the example run, the
# same numbered format as the CoT targets of the training data (prompts.completion);
# tests/model/test_model_train_prompts.py re-narrates the run and compares.
EXAMPLE_FORWARD = (
    "Let's execute the code step by step:\n"
    '1. The function f is called with nums = [3, 4, 6].\n'
    '2. Line 2: total = 0, so total is set to 0.\n'
    '3. Line 3: the loop for n in nums runs 3 times.\n'
    '   4. Iteration 1: n = 3.\n'
    '      5. Line 4: with n = 3, the condition n % 2 == 0 is false, so it goes to line 3.\n'
    '   6. Iteration 2: n = 4.\n'
    '      7. Line 4: with n = 4, the condition n % 2 == 0 is true, so it runs line 5.\n'
    '      8. Line 5: total += n, so total is set to 4.\n'
    '   9. Iteration 3: n = 6.\n'
    '      10. Line 4: with n = 6, the condition n % 2 == 0 is true, so it runs line 5.\n'
    '      11. Line 5: total += n, so total is set to 10.\n'
    '   12. There are no more items, so the loop ends.\n'
    '13. Line 6: return [total, len(nums)], so f returns [10, 3].\n'
    'So the function returns [10, 3].')
EXAMPLE_BACKWARD = (
    "Let's reason backwards from the output:\n"
    '1. The function returns at line 6 (return [total, len(nums)]), and the output is [10, 3].\n'
    '   2. total was set to 0 at line 2 (total = 0), then set again at line 5 (total += n) '
    'in the loop at line 3, ending as 10; these lines read n.\n'
    '   3. nums is an argument: nums = [3, 4, 6].\n'
    '      4. n is the loop variable at line 3; it took the values 3, 4, 6.\n'
    'So the output comes from the argument nums = [3, 4, 6].')


@dataclass(frozen=True)
class PromptSpec:
    """What to send and how to read the reply; `prefill` is the answer start we wrote."""
    messages: tuple[dict, ...]
    prefill: str
    stop: tuple[str, ...]
    max_new_tokens: int
    repeat_ngram: int = 0        # stop a reply that loops (small models do, in CoT)
    ban_first: tuple[str, ...] = ()   # replies that may not start with these ("??" copied)


def call_text(function: str, args: str) -> str:
    return f"{function}({args})"


def _task(code: str, assertion: str) -> str:
    return f"[PYTHON]\n{code.strip()}\n{assertion}\n[/PYTHON]"


def _chat(rules: str, example_q: str, example_a: str, task_q: str) -> tuple[dict, ...]:
    return ({"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{rules}\n\n{example_q}"},
            {"role": "assistant", "content": example_a},
            {"role": "user", "content": f"{rules}\n\n{task_q}"})


def focus_source(code: str, function: str) -> str:
    """The part of a module the model needs to see for `function`: its definition and the
    top-level statements it uses (imports, other functions and classes, constants), followed
    transitively, in source order. A small model asked about one function of a long file
    otherwise answers about another one. The verifying run always uses the whole file."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    provides: dict[str, list[int]] = {}
    for i, node in enumerate(tree.body):
        for name in _defined_names(node):
            provides.setdefault(name, []).append(i)
    root = function.split(".")[0]
    if root not in provides:
        return code
    keep: set[int] = set()
    todo = [root]
    while todo:
        for i in provides.get(todo.pop(), []):
            if i not in keep:
                keep.add(i)
                todo += [n.id for n in ast.walk(tree.body[i]) if isinstance(n, ast.Name)]
                todo += [n.attr for n in ast.walk(tree.body[i]) if isinstance(n, ast.Attribute)]
    dropped = [node for i, node in enumerate(tree.body) if i not in keep]
    if not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
               for n in dropped):
        return code       # a one-function file (CruxEval's kind) is shown exactly as written
    lines = code.splitlines()
    parts = []
    for i in sorted(keep):
        node = tree.body[i]
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        parts.append("\n".join(lines[start - 1:node.end_lineno]))
    return "\n\n".join(parts)


def _defined_names(node) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def output_prompt(code: str, function: str, args: str, mode: str = "direct") -> PromptSpec:
    """Predict `function(args)`'s return value."""
    ex_call, call = call_text("f", EXAMPLE_ARGS), call_text(function, args)
    ex_q = _task(EXAMPLE_CODE, f"assert {ex_call} == ??")
    task_q = _task(focus_source(code, function), f"assert {call} == ??")
    ex_answer = f"[ANSWER]\nassert {ex_call} == {EXAMPLE_OUTPUT}\n[/ANSWER]"
    if mode == "direct":
        return PromptSpec(_chat(DIRECT_OUTPUT_RULES, ex_q, ex_answer, task_q),
                          prefill=f"[ANSWER]\nassert {call} ==", stop=("\n", "[/ANSWER]"),
                          max_new_tokens=64, ban_first=(" ??", "??", " [/", "\n"))
    if mode == "cot":
        return PromptSpec(_chat(COT_OUTPUT_RULES, ex_q, f"{EXAMPLE_FORWARD}\n{ex_answer}", task_q),
                          prefill="", stop=("[/ANSWER]",), max_new_tokens=384, repeat_ngram=16)
    raise ValueError(f"unknown mode {mode!r} (expected 'direct' or 'cot')")


def input_prompt(code: str, function: str, output: str, mode: str = "direct") -> PromptSpec:
    """Predict arguments for which `function` returns `output`."""
    ex_q = _task(EXAMPLE_CODE, f"assert f(??) == {EXAMPLE_OUTPUT}")
    task_q = _task(focus_source(code, function), f"assert {function}(??) == {output}")
    ex_answer = f"[ANSWER]\nassert f({EXAMPLE_ARGS}) == {EXAMPLE_OUTPUT}\n[/ANSWER]"
    if mode == "direct":
        return PromptSpec(_chat(DIRECT_INPUT_RULES, ex_q, ex_answer, task_q),
                          prefill=f"[ANSWER]\nassert {function}(", stop=("\n", ") == "),
                          max_new_tokens=96, ban_first=("??", "?", ")"))
    if mode == "cot":
        return PromptSpec(_chat(COT_INPUT_RULES, ex_q, f"{EXAMPLE_BACKWARD}\n{ex_answer}", task_q),
                          prefill="", stop=("[/ANSWER]",), max_new_tokens=384, repeat_ngram=16)
    raise ValueError(f"unknown mode {mode!r} (expected 'direct' or 'cot')")


def humaneval_prompt(prompt: str) -> PromptSpec:
    """Complete a HumanEval function as plain code completion (no chat).

    The prompt's trailing newline is cut so that the model writes "\n    ..." itself: a
    prompt ending in a bare newline splits the usual newline+indent token and small models
    then close the function at once (measured: 8/8 empty bodies before, 8/8 bodies after).
    """
    return PromptSpec((), prefill=prompt.rstrip(),
                      stop=("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#",
                            "\nassert ", "```"),
                      max_new_tokens=384, repeat_ngram=24)


def render(tokenizer, spec: PromptSpec) -> str:
    """The exact text fed to the model: chat template (or a plain fallback) + prefill."""
    if not spec.messages:
        return spec.prefill
    if getattr(tokenizer, "chat_template", None):
        head = tokenizer.apply_chat_template(list(spec.messages), tokenize=False,
                                             add_generation_prompt=True)
    else:
        head = "".join(f"### {m['role'].title()}\n{m['content']}\n\n" for m in spec.messages)
        head += "### Assistant\n"
    return head + spec.prefill


def completion(kind: str, mode: str, function: str, args: str, output: str,
               reasoning: str = "") -> str:
    """What the model should write after the prompt's prefill: the training target of the
    fine-tuning data, and the reply the evaluation reads back (one definition for both).

    kind "output" answers `function(args)` with `output`; kind "input" answers the output
    with `args`. `reasoning` is the narrator's plain text (forward for outputs, backward for
    inputs) and is required in "cot" mode."""
    if kind not in ("output", "input"):
        raise ValueError(f"unknown kind {kind!r} (expected 'output' or 'input')")
    call = call_text(function, args)
    if mode == "direct":
        if kind == "output":
            return f" {output}\n[/ANSWER]"
        return f"{args}) == {output}\n[/ANSWER]"
    if mode == "cot":
        if not reasoning.strip():
            raise ValueError("cot completion needs the reasoning text")
        return f"{reasoning.strip()}\n[ANSWER]\nassert {call} == {output}\n[/ANSWER]"
    raise ValueError(f"unknown mode {mode!r} (expected 'direct' or 'cot')")
