"""`tracecot train` end to end on a tiny random model: the loss is on targets only, packing
keeps examples apart, and save / resume continues exactly where a straight run goes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from support.tiny import build_tiny_checkpoint

from tracecot.model import prompts as P
from tracecot.model.training import TrainConfig, train
from tracecot.model.training.packing import (IGNORE, collate, example_texts, pack,
                                             read_records, shared_prefixes, tokenize)



def _records(n: int) -> list[dict]:
    out = []
    for i in range(n):
        code = f"def f(x):\n    y = x + {i}\n    return y"
        for kind in ("output", "input"):
            for mode in ("direct", "cot"):
                reasoning = (f"1. The function f is called with x = {i}.\n2. f returns {2 * i}."
                             if mode == "cot" else "")
                out.append(dict(id=f"{i}-{kind}-{mode}", source="generated", kind=kind,
                                mode=mode, code=code, function="f", args=str(i),
                                output=str(2 * i), reasoning=reasoning))
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "ckpt")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    recs = _records(10)
    (d / "train-00000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs[:32]))
    (d / "valid-00000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs[32:]))
    return d


@pytest.fixture(scope="module")
def tok(tiny):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(str(tiny), local_files_only=True)


def _cfg(tiny, data, out, **kw) -> TrainConfig:
    base = dict(data=str(data), out=str(out), model=str(tiny), rank=4, alpha=8,
                row_tokens=4096, max_example_tokens=4096, warmup_steps=2, log_every=1,
                valid_examples=4, checkpoint_minutes=1e9, seed=3, lr=5e-3, epochs=5)
    return TrainConfig(**{**base, **kw})


def test_targets_are_the_shared_completion_and_only_they_carry_loss(data, tok):
    recs = read_records(data, "train")
    examples = tokenize(recs, tok)
    assert len(examples) == len(recs)
    for r, ex in zip(recs, examples, strict=True):
        prompt, target, _ = example_texts(r, tok)
        assert target.startswith(P.completion(r["kind"], r["mode"], r["function"], r["args"],
                                              r["output"], r["reasoning"]))
        assert tok.decode(ex.ids[ex.n_prompt:]) == target
    for row in pack(examples, 4096, seed=0):
        labelled = [i for i, t in enumerate(row.labels) if t != IGNORE]
        # every label is the next token, and no prompt token is ever a label
        for i in labelled:
            assert row.labels[i] == row.input_ids[i + 1] or row.segments[i + 1:i + 2] != [
                row.segments[i]]
        seg_count = {}
        for i in labelled:
            seg_count[row.segments[i]] = seg_count.get(row.segments[i], 0) + 1
        assert sum(seg_count.values()) == row.target_tokens
        assert 0 not in seg_count                 # the shared prefix has no label


def test_packing_shares_the_prefix_and_keeps_examples_apart(tiny, data, tok):
    from transformers import AutoModelForCausalLM
    examples = tokenize(read_records(data, "train"), tok, modes=("direct",))
    prefix = shared_prefixes(examples)
    assert set(prefix) == {"output/direct", "input/direct"}
    assert all(n > 100 for n in prefix.values())      # system + worked example + rules
    rows = pack(examples, 4096, seed=0)
    row = max(rows, key=lambda r: r.examples)
    assert row.examples >= 3
    lm = AutoModelForCausalLM.from_pretrained(str(tiny), local_files_only=True,
                                              attn_implementation="sdpa").eval()
    batch = collate([row], tok.pad_token_id)
    with torch.no_grad():
        packed = lm(**batch).logits[0]
    # each example alone (plain causal attention) gives the same logits at its positions
    group = [e for e in examples if e.group == next(
        e.group for e in examples if e.ids[:prefix[e.group]] == row.input_ids[:prefix[e.group]])]
    n_pre = prefix[group[0].group]
    starts = [i for i in range(len(row.segments)) if row.segments[i] > 0
              and row.segments[i] != row.segments[i - 1]]
    for s in starts:
        seg = row.segments[s]
        end = s
        while end < len(row.segments) and row.segments[end] == seg:
            end += 1
        ids = row.input_ids[:n_pre] + row.input_ids[s:end]
        with torch.no_grad():
            alone = lm(input_ids=torch.tensor([ids])).logits[0]
        assert torch.allclose(alone[n_pre:], packed[s:end], atol=1e-4)
    # without the segment mask the examples would see each other: the check above can fail
    bad = dict(batch, attention_mask=None)
    with torch.no_grad():
        leaky = lm(**bad).logits[0]
    s = starts[-1]
    assert not torch.allclose(leaky[s:s + 3], packed[s:s + 3], atol=1e-4)


def test_target_only_loss_matches_the_full_logits_loss(tiny, data, tok):
    from tracecot.model.training.loop import _target_loss_module
    from transformers import AutoModelForCausalLM
    lm = AutoModelForCausalLM.from_pretrained(str(tiny), local_files_only=True,
                                              attn_implementation="sdpa")
    rows = pack(tokenize(read_records(data, "train"), tok), 4096, seed=1)
    batch = collate(rows[:1], tok.pad_token_id)
    loss, count = _target_loss_module(lm, full=True)(**batch)
    logits = lm(**batch).logits[0]
    labels = batch["labels"][0]
    keep = labels != IGNORE
    ref = torch.nn.functional.cross_entropy(logits[keep], labels[keep], reduction="sum")
    assert int(count) == rows[0].target_tokens > 0
    assert torch.allclose(loss, ref, rtol=1e-4)


def _adapter_tensors(path: Path) -> dict:
    from safetensors.torch import load_file
    return load_file(str(path / "checkpoint" / "weights" / "adapter_model.safetensors"))


def test_training_lowers_loss_and_resume_continues_exactly(tiny, data, tmp_path):
    straight = train(_cfg(tiny, data, tmp_path / "a", max_steps=6, row_tokens=1600))
    assert straight["steps"] == 6 and straight["valid_loss_end"] < straight["valid_loss_start"]
    run = tmp_path / "a"
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert any(r.get("tokens_per_s", 0) > 0 for r in log)

    train(_cfg(tiny, data, tmp_path / "b", max_steps=3, row_tokens=1600))
    with pytest.raises(SystemExit):               # an existing run is not overwritten
        train(_cfg(tiny, data, tmp_path / "b", max_steps=6, row_tokens=1600))
    resumed = train(_cfg(tiny, data, tmp_path / "b", max_steps=6, row_tokens=1600,
                         resume=True))
    assert resumed["steps"] == 6 and resumed["sittings"] == 2
    a, b = _adapter_tensors(tmp_path / "a"), _adapter_tensors(tmp_path / "b")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k
    assert any(float(v.abs().sum()) > 0 for k, v in a.items() if "lora_B" in k)


def test_exported_adapter_loads_and_none_gives_the_base(tiny, data, tmp_path, monkeypatch):
    from tracecot.model.loading import load_model, resolve_adapter
    train(_cfg(tiny, data, tmp_path / "run", max_steps=2))
    adapter = tmp_path / "run" / "adapter"
    size = (adapter / "adapter_model.safetensors").stat().st_size
    from safetensors.torch import load_file
    assert all(v.dtype == torch.float16 for v in load_file(
        str(adapter / "adapter_model.safetensors")).values()) and size > 0
    lm = load_model(str(tiny), str(adapter), device="cpu", dtype="float32")
    assert lm.adapter == str(adapter) and lm.describe()["card"] is None
    (adapter / "README.md").write_text("# model card\n")
    card = load_model(str(tiny), str(adapter), device="cpu", dtype="float32").describe()["card"]
    assert card == str((adapter / "README.md").resolve())
    monkeypatch.setenv("TRACECOT_ADAPTER", "none")
    assert resolve_adapter(None, None) is None
    assert resolve_adapter(None, "none") is None
    monkeypatch.delenv("TRACECOT_ADAPTER")
    assert resolve_adapter(str(tiny), None) is None     # another base: no shipped adapter
    assert resolve_adapter(None, str(adapter)) == str(adapter)


def test_cli_train_parses_and_reports_missing_data(tmp_path, capsys):
    from tracecot.server.cli import main
    assert main(["train", "--data", str(tmp_path / "nothing"), "--out",
                 str(tmp_path / "o"), "--model", str(tmp_path / "nomodel")]) == 2
    assert "tracecot train" in capsys.readouterr().err


def test_predict_cli_checks_by_a_real_run_and_rejects_bad_input(tiny, tmp_path, capsys):
    from tracecot.server.cli import main
    src = tmp_path / "m.py"
    src.write_text("def double(x):\n    return x * 2\n")
    code = main(["predict", f"{src}:double", "21", "--json", "--model", str(tiny)])
    got = json.loads(capsys.readouterr().out)
    p = got["predictions"][0]
    assert p["actual"] == "42" and p["kind"] == "output"
    assert code == (0 if p["verified"] else 1)
    assert p["verified"] == (p["prediction"] is not None and p["prediction"].strip() == "42")
    code = main(["predict", f"{src}:double", "--output", "42", "-k", "2", "--model", str(tiny)])
    out = capsys.readouterr().out
    assert code in (0, 1) and out.count("== 42") == 2 and ("✓" in out or "✗" in out)
    for argv in (["predict", f"{src}:nope", "1"], ["predict", f"{tmp_path}/x.py:f", "1"],
                 ["predict", f"{src}:double", "1", "--output", "2"],
                 ["predict", f"{src}:double", "(("], ["predict", f"{src}:double"],
                 ["predict", f"{src}:double", "1", "--model", str(tmp_path / "none")]):
        assert main(argv) == 2, argv
        assert "tracecot predict:" in capsys.readouterr().err
