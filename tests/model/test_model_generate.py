"""Loading and batched generation with a tiny random Llama built locally (no download)."""

import json

import pytest

import torch

from tracecot.model.generate import Cancelled, Engine, GenConfig
from tracecot.model.loading import (ModelLoadError, ensure_checkpoint, load_model,
                                    resolve_model_path)
from support.tiny import build_tiny_adapter, build_tiny_checkpoint


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "ckpt")


@pytest.fixture(scope="module")
def lm(tiny_dir):
    return load_model(str(tiny_dir), device="cpu", dtype="float32")


PROMPTS = ["<|im_start|>user\nshared system text, long enough to be cached as a prefix. "
           f"Question {q}<|im_end|>\n<|im_start|>assistant\n"
           for q in ("one", "number two is longer", "3", "and a fourth question here")]


def _hf_greedy(lm, prompt, n):
    tok = lm.tokenizer
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False)
    out = lm.model.generate(**ids, max_new_tokens=n, do_sample=False,
                            eos_token_id=lm.eos_ids, pad_token_id=tok.pad_token_id)
    return tok.decode(out[0, ids.input_ids.shape[1]:], skip_special_tokens=True)


def test_load_tiny_model(lm, tiny_dir):
    assert lm.device == "cpu" and lm.dtype == "float32" and lm.tokenizer.padding_side == "left"
    assert lm.eos_ids and lm.name == tiny_dir.name
    assert lm.describe()["path"] == str(tiny_dir)


def test_batched_prefix_cached_generation_equals_hf_generate(lm):
    eng = Engine(lm, min_prefix=8)
    cfg = GenConfig(max_new_tokens=12)
    batched = [g[0].text for g in eng.generate(PROMPTS, cfg)]
    assert eng._prefixes, "the shared prefix should have been cached"
    singles = [Engine(lm).generate([p], cfg)[0][0].text for p in PROMPTS]
    reference = [_hf_greedy(lm, p, 12) for p in PROMPTS]
    assert batched == singles == reference
    # the cached prefix is reused by the next batch with the same prefix
    again = [g[0].text for g in eng.generate(PROMPTS[::-1], cfg)]
    assert again == batched[::-1] and len(eng._prefixes) == 1


def test_generation_record_fields(lm):
    g = Engine(lm).generate([PROMPTS[0]], GenConfig(max_new_tokens=5))[0][0]
    assert g.finish in ("length", "eos") and 0 < g.tokens <= 5
    assert 0 < g.first_token_s <= g.total_s and g.prompt_tokens > 10


def test_stop_string_cuts_and_finishes_sequence(lm):
    eng = Engine(lm)
    free = eng.generate([PROMPTS[1]], GenConfig(max_new_tokens=30))[0][0].text
    assert len(free) > 3
    stop = free[2:4]                 # a string the model is known to produce
    g = eng.generate([PROMPTS[1]], GenConfig(max_new_tokens=30, stop=(stop,)))[0][0]
    assert g.finish == "stop" and g.text.endswith(stop) and free.startswith(g.text)


def test_sampling_is_seeded_and_gives_k_samples(lm):
    eng = Engine(lm)
    cfg = GenConfig(max_new_tokens=10, temperature=1.0, seed=7)
    a = eng.generate(PROMPTS[:2], cfg, samples=3)
    b = eng.generate(PROMPTS[:2], cfg, samples=3)
    assert [len(x) for x in a] == [3, 3]
    assert [[g.text for g in x] for x in a] == [[g.text for g in x] for x in b]
    assert len({g.text for g in a[0]}) > 1        # samples differ from each other


def test_generate_many_keeps_order(lm):
    eng = Engine(lm)
    cfg = GenConfig(max_new_tokens=6)
    seen = []
    many = eng.generate_many(PROMPTS, cfg, batch_size=3, on_batch=lambda idx, g: seen.extend(idx))
    assert sorted(seen) == [0, 1, 2, 3]
    assert [g[0].text for g in many] == [eng.generate([p], cfg)[0][0].text for p in PROMPTS]


def test_cancel_stops_generation(lm):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2
    with pytest.raises(Cancelled):
        Engine(lm).generate(PROMPTS, GenConfig(max_new_tokens=50), cancel=cancel)
    assert len(calls) == 3


def test_adapter_is_applied(tiny_dir, tmp_path, lm):
    adapter = build_tiny_adapter(tiny_dir, tmp_path / "lora")
    with_adapter = load_model(str(tiny_dir), adapter=str(adapter), device="cpu", dtype="float32")
    assert with_adapter.adapter == str(adapter)
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.inference_mode():
        base = lm.model(ids).logits
        adapted = with_adapter.model(ids).logits
    assert not torch.allclose(base, adapted)


def test_model_load_errors_name_the_path(tmp_path, tiny_dir):
    with pytest.raises(ModelLoadError) as e:
        load_model(str(tmp_path / "missing"))
    assert str(tmp_path / "missing") in str(e.value) and "no such" in str(e.value)
    (tmp_path / "file.bin").write_text("x")
    with pytest.raises(ModelLoadError, match="not a directory"):
        resolve_model_path(tmp_path / "file.bin")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(str(tmp_path / "empty"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ModelLoadError) as e:
        load_model(str(broken))
    assert e.value.path == str(broken)
    with pytest.raises(ModelLoadError, match="adapter"):
        load_model(str(tiny_dir), adapter=str(tmp_path / "no-adapter"))
    (tmp_path / "not-adapter").mkdir()
    with pytest.raises(ModelLoadError, match="adapter_config.json"):
        load_model(str(tiny_dir), adapter=str(tmp_path / "not-adapter"))
    with pytest.raises(ModelLoadError, match="file not found"):
        ensure_checkpoint(tmp_path / "nothing.gguf")


def test_environment_selects_model(tiny_dir, monkeypatch):
    monkeypatch.setenv("TRACECOT_MODEL", str(tiny_dir))
    path, converted = resolve_model_path()
    assert path == tiny_dir and converted is None


def test_loop_detection():
    from tracecot.model.generate import _loops
    assert _loops([1, 2, 3, 9, 1, 2, 3], 3)
    assert not _loops([1, 2, 3, 9, 1, 2, 4], 3)
    assert not _loops([1, 2, 1, 2], 3)


def test_repeating_reply_is_stopped(lm):
    eng = Engine(lm)
    cfg = GenConfig(max_new_tokens=400, min_new_tokens=400, repeat_ngram=3)
    g = eng.generate([PROMPTS[0]], cfg)[0][0]
    assert g.finish == "repeat" and g.tokens < 400


def test_banned_first_token(lm):
    class Recording(Engine):
        def _finish(self, ids, *a):
            self.first = ids[0]
            return super()._finish(ids, *a)
    eng = Recording(lm)
    eng.generate([PROMPTS[2]], GenConfig(max_new_tokens=3))
    free_first = eng.first
    want = lm.tokenizer("def f", add_special_tokens=False)["input_ids"][0]
    assert eng._first_ids(("def f",)) == [want]
    eng._first_ids = lambda texts: [free_first]
    eng.generate([PROMPTS[2]], GenConfig(max_new_tokens=3, ban_first=("x",)))
    assert eng.first != free_first


def test_prefix_hint_caches_for_single_prompts(lm):
    eng = Engine(lm, min_prefix=8)
    hint = PROMPTS[0][:PROMPTS[0].index("Question")]
    cfg = GenConfig(max_new_tokens=8)
    a = eng.generate([PROMPTS[1]], cfg, prefix_hint=hint)[0][0]
    assert len(eng._prefixes) == 1
    b = eng.generate([PROMPTS[3]], cfg, prefix_hint=hint)[0][0]
    assert len(eng._prefixes) == 1                   # reused, not recomputed
    plain = Engine(lm)
    assert (a.text, b.text) == tuple(plain.generate([p], cfg)[0][0].text for p in PROMPTS[1::2])


def test_cpu_dtype_is_bfloat16_only_with_native_bf16(tmp_path, monkeypatch):
    from tracecot.model import loading
    plain = tmp_path / "plain"
    plain.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512bw avx512_vnni\n")
    native = tmp_path / "native"
    native.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert not loading.native_cpu_bf16(str(plain))      # emulated by oneDNN: slower
    assert loading.native_cpu_bf16(str(native))
    assert not loading.native_cpu_bf16(str(tmp_path / "missing"))
    monkeypatch.delenv("TRACECOT_DTYPE", raising=False)
    monkeypatch.setattr(loading, "native_cpu_bf16", lambda: False)
    assert loading.pick_dtype("cpu") is torch.float32
    monkeypatch.setattr(loading, "native_cpu_bf16", lambda: True)
    assert loading.pick_dtype("cpu") is torch.bfloat16
    assert loading.pick_dtype("cpu", "float16") is torch.float16
