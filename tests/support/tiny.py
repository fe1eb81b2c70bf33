"""A tiny randomly initialised checkpoint (Llama, byte-level BPE) built locally in ~1 s.

Tests and offline smoke checks exercise the whole model path (tokenizer, chat template,
batched generation, adapters, the worker) without the real weights and without a network.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

_CORPUS = [
    "def f(nums):\n    output = []\n    for n in nums:\n        output.append(n)\n"
    "    return output",
    "assert f([1, 2, 3]) == [1, 2, 3]\n[ANSWER]\n[/ANSWER]\n[PYTHON]\n[/PYTHON]",
    "Complete the assertion with the value the function returns. The function is called.",
    "The loop runs; text is 'abc', count becomes 2, result is True. Return {'a': 1}.",
    "0123456789 ()[]{}<>:;,.'\"!?+-*/=%&|^~#@$\\_ \t\n",
]


def build_tokenizer(vocab_size: int = 512):
    """Byte-level BPE (every string round-trips) with ChatML special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tk.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<|im_start|>",
                                   eos_token="<|im_end|>", unk_token="<|endoftext|>",
                                   pad_token="<|im_end|>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_checkpoint(path: str | Path, hidden: int = 32, layers: int = 2,
                          seed: int = 0) -> Path:
    """Save a random tiny Llama + tokenizer at `path`; returns the path."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    path = Path(path)
    tok = build_tokenizer()
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, tie_word_embeddings=True,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id, initializer_range=0.4)
    model = LlamaForCausalLM(config)
    model.save_pretrained(path, safe_serialization=True)
    tok.save_pretrained(path)
    return path


def build_tiny_adapter(base: str | Path, path: str | Path, seed: int = 1) -> Path:
    """A LoRA adapter for the tiny checkpoint with non-zero weights (it changes outputs)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(str(base), local_files_only=True)
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                            init_lora_weights=False))
    torch.manual_seed(seed)
    peft.save_pretrained(str(path))
    return Path(path)
