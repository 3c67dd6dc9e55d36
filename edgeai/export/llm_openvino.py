"""A Hugging Face causal LM as OpenVINO IR with int4 weights (optimum-intel + NNCF), the format
openvino-genai runs, with its perplexity and speed measured against the source checkpoint.

The source is run by transformers (float32) in the same process; both take turns generating.
The tokenizer is saved beside the IR twice: in Hugging Face form (optimum-intel reads it) and
as OpenVINO IR made by openvino-tokenizers (openvino_tokenizer.xml, openvino_detokenizer.xml),
which openvino-genai's LLMPipeline needs.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

GENERATED_TOKENS = 16
ROUNDS = 3


def export_int4(checkpoint: Path, out: Path) -> Path:
    from optimum.intel import OVModelForCausalLM, OVWeightQuantizationConfig
    from transformers import AutoTokenizer

    weights = OVWeightQuantizationConfig(bits=4, sym=True, group_size=64, ratio=1.0)
    model = OVModelForCausalLM.from_pretrained(
        str(checkpoint), export=True, quantization_config=weights
    )
    model.save_pretrained(str(out))
    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))  # type: ignore[no-untyped-call]
    tokenizer.save_pretrained(str(out))
    _tokenizer_ir(tokenizer, out)
    return out / "openvino_model.xml"


def _tokenizer_ir(tokenizer: Any, out: Path) -> None:
    import openvino
    from openvino_tokenizers import convert_tokenizer

    encoder, decoder = convert_tokenizer(tokenizer, with_detokenizer=True)
    openvino.save_model(encoder, str(out / "openvino_tokenizer.xml"))
    openvino.save_model(decoder, str(out / "openvino_detokenizer.xml"))


def measure(checkpoint: Path, folder: Path, text: str) -> dict[str, float]:
    """The same figures llm_probe gives for GGUF files: perplexities, tokens, ms per token."""
    import torch
    from optimum.intel import OVModelForCausalLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))  # type: ignore[no-untyped-call]
    ids = tokenizer(text, return_tensors="pt").input_ids
    models = [
        AutoModelForCausalLM.from_pretrained(str(checkpoint)),
        OVModelForCausalLM.from_pretrained(str(folder)),
    ]
    with torch.no_grad():
        (reference_ppl, ppl) = (_perplexity(model, ids) for model in models)
        timings: tuple[list[float], list[float]] = ([], [])
        for _ in range(ROUNDS):
            for model, times in zip(models, timings, strict=True):
                times.append(_ms_per_token(model, ids[:, :4]))
    return {
        "reference_perplexity": reference_ppl,
        "perplexity": ppl,
        "tokens": int(ids.shape[1]),
        "reference_ms_per_token": statistics.median(timings[0]),
        "ms_per_token": statistics.median(timings[1]),
    }


def _perplexity(model: Any, ids: Any) -> float:
    import torch

    logits = torch.as_tensor(model(ids).logits[0, :-1]).float()
    log_probs = torch.log_softmax(logits, dim=-1)
    nll = -log_probs[torch.arange(ids.shape[1] - 1), ids[0, 1:]].mean()
    return float(torch.exp(nll))


def _ms_per_token(model: Any, prompt: Any) -> float:
    started = time.perf_counter()
    produced = model.generate(
        prompt, max_new_tokens=GENERATED_TOKENS, min_new_tokens=GENERATED_TOKENS, do_sample=False
    )
    count = max(1, int(produced.shape[1]) - int(prompt.shape[1]))
    return 1000 * (time.perf_counter() - started) / count
