"""Perplexity and speed of two GGUF files, taking turns; run as its own process.

`python -m edgeai.export.llm_probe REFERENCE CANDIDATE TEXT_FILE THREADS` prints one JSON line.
It runs apart from the exporter because llama.cpp aborts the whole process on some malformed
models; the exporter turns a crash here into one error line instead of dying with it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

GENERATED_TOKENS = 32
ROUNDS = 3


def perplexity(model: Any, text: str) -> tuple[float, int]:
    """exp(mean negative log-likelihood) of each token given the ones before it."""
    tokens = model.tokenize(text.encode(), add_bos=True)
    model.reset()
    model.eval(tokens)
    logits = np.asarray(model.scores[: len(tokens) - 1], np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    nll = -log_probs[np.arange(len(tokens) - 1), tokens[1:]].mean()
    return float(np.exp(nll)), len(tokens)


def ms_per_token(model: Any) -> float:
    model.reset()
    started = time.perf_counter()
    produced = model.create_completion("The", max_tokens=GENERATED_TOKENS, temperature=0.0)
    count = max(1, int(produced["usage"]["completion_tokens"]))
    return 1000 * (time.perf_counter() - started) / count


def main(reference: Path, candidate: Path, text_file: Path, threads: int) -> dict[str, float]:
    from llama_cpp import Llama

    text = text_file.read_text()
    models = [
        Llama(str(path), n_ctx=2048, n_threads=threads, logits_all=True, verbose=False)
        for path in (reference, candidate)
    ]
    (ref_ppl, tokens), (ppl, _) = (perplexity(m, text) for m in models)
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(ROUNDS):
        for model, times in zip(models, timings, strict=True):
            times.append(ms_per_token(model))
    return {
        "reference_perplexity": ref_ppl,
        "perplexity": ppl,
        "tokens": tokens,
        "reference_ms_per_token": statistics.median(timings[0]),
        "ms_per_token": statistics.median(timings[1]),
    }


if __name__ == "__main__":
    reference, candidate, text_file, threads = sys.argv[1:5]
    print(json.dumps(main(Path(reference), Path(candidate), Path(text_file), int(threads))))
