"""Batched generation: left padding, shared-prefix KV reuse, stop strings, greedy or sampling.

A hand-written decoding loop rather than `model.generate` because it needs things generate
does not give together: stop at a closing tag per sequence, drop finished sequences from the
batch, time the first token, cancel between steps, and compute the few-shot prefix that all
prompts share only once (on a CPU, prefill dominates the cost of short answers).
"""

from __future__ import annotations

import copy
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import torch

if TYPE_CHECKING:
    from .loading import LoadedModel


class Cancelled(Exception):
    """Generation stopped because the caller's cancel check returned True."""


@dataclass
class GenConfig:
    max_new_tokens: int = 64
    min_new_tokens: int = 0           # end-of-sequence is suppressed before this many tokens
    temperature: float = 0.0          # 0 = greedy
    top_p: float = 1.0
    stop: tuple[str, ...] = ()        # generation of a sequence ends after any of these
    repeat_ngram: int = 0             # end a sequence that repeats its last n tokens (0: off)
    ban_first: tuple[str, ...] = ()   # texts whose first token may not start the reply
    seed: int | None = 0              # sampling seed (None: nondeterministic)

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


@dataclass
class Generation:
    text: str                  # completion, cut right after the stop string that ended it
    tokens: int                # generated tokens
    finish: str                # "stop" | "eos" | "length" | "repeat"
    prompt_tokens: int
    first_token_s: float       # from call start to the first token of this batch
    total_s: float             # from call start to this sequence finishing


@dataclass
class _Prefix:
    ids: tuple[int, ...]
    cache: Any                 # transformers' DynamicCache for batch size 1 (no type stubs)


@dataclass
class Engine:
    """Generates completions for prompt strings with a loaded model; keeps a prefix cache."""
    lm: LoadedModel
    min_prefix: int = 24                        # shorter shared prefixes are not worth caching
    prefix_slots: int = 4
    _prefixes: OrderedDict = field(default_factory=OrderedDict)

    @property
    def tokenizer(self):
        return self.lm.tokenizer

    def generate(self, prompts: Sequence[str], cfg: GenConfig, samples: int = 1,
                 cancel: Callable[[], bool] | None = None,
                 prefix_hint: str | None = None) -> list[list[Generation]]:
        """One batch: `samples` completions for each prompt (all in one forward pass).

        `prefix_hint`: text that prompts of this kind start with (system prompt, worked
        example); its KV cache is kept, so even a single prompt skips recomputing it.
        """
        tok = self.lm.tokenizer
        ids = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
        seqs = [x for x in ids for _ in range(samples)]
        if prefix_hint:
            seqs_for_prefix = seqs + [tok(prefix_hint, add_special_tokens=False)["input_ids"]]
        else:
            seqs_for_prefix = seqs
        flat = self._run(seqs, cfg, cancel, seqs_for_prefix)
        return [flat[i * samples:(i + 1) * samples] for i in range(len(prompts))]

    def generate_many(self, prompts: Sequence[str], cfg: GenConfig, batch_size: int = 8,
                      samples: int = 1, cancel: Callable[[], bool] | None = None,
                      on_batch: Callable[[list[int], list[list[Generation]]], None] | None = None,
                      prefix_hint: str | None = None) -> list[list[Generation]]:
        """Any number of prompts, batched by similar length (less padding)."""
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        per_batch = max(1, batch_size // max(1, samples))
        out: list[list[Generation] | None] = [None] * len(prompts)
        for start in range(0, len(order), per_batch):
            idx = order[start:start + per_batch]
            gens = self.generate([prompts[i] for i in idx], cfg, samples, cancel, prefix_hint)
            for i, g in zip(idx, gens, strict=True):
                out[i] = g
            if on_batch:
                on_batch(idx, gens)
        done = [g for g in out if g is not None]
        assert len(done) == len(out), "every prompt is in one batch"
        return done

    # -- internals ---------------------------------------------------------------------------

    def _prefix_for(self, seqs: list[list[int]]) -> _Prefix | None:
        """A cached KV prefix shared by every sequence (each keeps >= 1 token of its own)."""
        limit = min(len(s) for s in seqs) - 1
        first = seqs[0]
        lcp = 0
        while lcp < limit and all(s[lcp] == first[lcp] for s in seqs):
            lcp += 1
        if lcp < self.min_prefix:
            return None
        for key in list(self._prefixes):       # longest stored prefix shared by all
            if len(key) <= lcp and len(key) >= lcp - 16 and tuple(first[:len(key)]) == key:
                self._prefixes.move_to_end(key)
                return self._prefixes[key]
        key = tuple(first[:lcp])
        from transformers import DynamicCache
        cache = DynamicCache()
        model = self.lm.model
        with torch.inference_mode():
            model(input_ids=torch.tensor([key], device=model.device), use_cache=True,
                  **_cache_arg(model, cache))
        self._prefixes[key] = _Prefix(key, cache)
        while len(self._prefixes) > self.prefix_slots:
            self._prefixes.popitem(last=False)
        return self._prefixes[key]

    def _run(self, seqs: list[list[int]], cfg: GenConfig, cancel: Callable[[], bool] | None,
             seqs_for_prefix: list[list[int]]) -> list[Generation]:
        from transformers import DynamicCache
        t0 = time.perf_counter()
        model, tok = self.lm.model, self.lm.tokenizer
        dev = model.device
        n = len(seqs)
        prefix = self._prefix_for(seqs_for_prefix) if len(seqs_for_prefix) > 1 else None
        plen = len(prefix.ids) if prefix else 0
        if prefix:
            cache = copy.deepcopy(prefix.cache)
            cache.batch_repeat_interleave(n)
        else:
            cache = DynamicCache()
        tails = [s[plen:] for s in seqs]
        width = max(len(t) for t in tails)
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        input_ids = torch.full((n, width), pad, dtype=torch.long)
        mask = torch.zeros((n, plen + width), dtype=torch.long)
        mask[:, :plen] = 1
        pos = torch.ones((n, width), dtype=torch.long)
        for i, t in enumerate(tails):
            input_ids[i, width - len(t):] = torch.tensor(t)
            mask[i, plen + width - len(t):] = 1
            pos[i, width - len(t):] = torch.arange(plen, plen + len(t))
        input_ids, mask, pos = input_ids.to(dev), mask.to(dev), pos.to(dev)
        eos = torch.tensor(self.lm.eos_ids or [-1], device=dev)
        gen_gen = None
        if not cfg.greedy:
            gen_gen = torch.Generator(device=dev)
            gen_gen.manual_seed(cfg.seed if cfg.seed is not None else int(time.time_ns() % 2**31))
        active = list(range(n))          # original index of each batch row
        out_ids: list[list[int]] = [[] for _ in range(n)]
        results: list[Generation | None] = [None] * n
        first_s = 0.0
        next_pos = pos[:, -1:] + 1
        with torch.inference_mode():
            for step in range(cfg.max_new_tokens):
                if cancel is not None and cancel():
                    raise Cancelled()
                logits = model(input_ids=input_ids, attention_mask=mask, position_ids=pos,
                               use_cache=True, logits_to_keep=1,
                               **_cache_arg(model, cache)).logits[:, -1, :].float()
                if step < cfg.min_new_tokens:
                    logits[:, eos[eos >= 0]] = float("-inf")
                if step == 0 and cfg.ban_first:
                    logits[:, self._first_ids(cfg.ban_first)] = float("-inf")
                nxt = _choose(logits, cfg, gen_gen)
                if step == 0:
                    first_s = time.perf_counter() - t0
                is_eos = torch.isin(nxt, eos).tolist()
                nxt_list = nxt.tolist()
                keep = []
                for row, orig in enumerate(active):
                    finish = None
                    if is_eos[row]:
                        finish = "eos"
                    else:
                        out_ids[orig].append(nxt_list[row])
                        if cfg.stop and _hit_stop(tok, out_ids[orig], cfg.stop):
                            finish = "stop"
                        elif cfg.repeat_ngram and _loops(out_ids[orig], cfg.repeat_ngram):
                            finish = "repeat"
                        elif step == cfg.max_new_tokens - 1:
                            finish = "length"
                    if finish:
                        results[orig] = self._finish(out_ids[orig], finish, len(seqs[orig]),
                                                     cfg, first_s, t0)
                    else:
                        keep.append(row)
                if not keep:
                    break
                if len(keep) < len(active):
                    sel = torch.tensor(keep, device=dev)
                    cache.batch_select_indices(sel)
                    mask, nxt, next_pos = mask[sel], nxt[sel], next_pos[sel]
                    active = [active[r] for r in keep]
                input_ids = nxt.unsqueeze(1)
                pos = next_pos
                next_pos = next_pos + 1
                mask = torch.cat([mask, mask.new_ones((len(active), 1))], dim=1)
        for orig in range(n):          # max_new_tokens == 0
            if results[orig] is None:
                results[orig] = self._finish(out_ids[orig], "length", len(seqs[orig]), cfg,
                                             first_s, t0)
        finished = [r for r in results if r is not None]
        assert len(finished) == n, "every sequence finished (at the latest, by its length)"
        return finished

    def _first_ids(self, texts: tuple[str, ...]) -> list[int]:
        tok = self.lm.tokenizer
        return sorted({tok(t, add_special_tokens=False)["input_ids"][0] for t in texts if t})

    def _finish(self, ids, finish, prompt_tokens, cfg, first_s, t0) -> Generation:
        text = self.lm.tokenizer.decode(ids, skip_special_tokens=True)
        if finish == "stop":
            text = _cut_at_stop(text, cfg.stop)
        return Generation(text=text, tokens=len(ids), finish=finish, prompt_tokens=prompt_tokens,
                          first_token_s=first_s, total_s=time.perf_counter() - t0)


def _choose(logits: torch.Tensor, cfg: GenConfig, gen: torch.Generator | None) -> torch.Tensor:
    if cfg.greedy:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits / cfg.temperature, dim=-1)
    if cfg.top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        drop = sorted_p.cumsum(dim=-1) - sorted_p > cfg.top_p
        sorted_p[drop] = 0.0
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
    return torch.multinomial(probs, 1, generator=gen).squeeze(1)


def _hit_stop(tok, ids: list[int], stops: tuple[str, ...]) -> bool:
    """Only the tail is decoded: a stop string spans at most a few tokens."""
    longest = max(len(s) for s in stops)
    tail = tok.decode(ids[-(longest + 2):], skip_special_tokens=True)
    return any(s in tail for s in stops)


def _loops(ids: list[int], n: int) -> bool:
    """The last n tokens already occurred earlier: a small model stuck in a loop."""
    if len(ids) < 2 * n:
        return False
    tail = ids[-n:]
    first = tail[0]
    for i in range(len(ids) - 2 * n + 1):
        if ids[i] == first and ids[i:i + n] == tail:
            return True
    return False


def _cut_at_stop(text: str, stops: tuple[str, ...]) -> str:
    ends = [text.find(s) + len(s) for s in stops if s in text]
    return text[:min(ends)] if ends else text


def _cache_arg(model, cache) -> dict:
    """The KV-cache keyword: `cache` in transformers 5.x (`past_key_values` is deprecated
    there), `past_key_values` before."""
    kind = type(model)
    if kind not in _CACHE_KW:
        import inspect
        params = inspect.signature(model.forward).parameters
        _CACHE_KW[kind] = "cache" if "cache" in params else "past_key_values"
    return {_CACHE_KW[kind]: cache}


_CACHE_KW: dict[type, str] = {}
