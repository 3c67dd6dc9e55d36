"""The head: a small MLP over 16 speech embeddings, trained with torch and exported to ONNX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from edgeai.ears.wake.frontend import EMBEDDING_DIM

WINDOW = 16
"""Embeddings the head looks at: 16 x 80 ms = 1.28 s, as openWakeWord's heads."""


NEGATIVE_WEIGHT = 10.0
"""False accepts cost more than false rejects: negatives weigh this much more, in total."""
HARD_NEGATIVE_WEIGHT = 3.0
"""Mined negatives (windows an earlier head scored high) weigh this much, in total, on top."""
DROPOUT = 0.3
"""The default share of each hidden layer's units dropped while training (recipe `dropout`)."""
WEIGHT_DECAY = 1e-3
"""The default AdamW weight decay (recipe `weight_decay`)."""


def train_heads(
    positives: np.ndarray,
    negatives: np.ndarray,
    hard_negatives: np.ndarray,
    seed: int,
    count: int,
    epochs: int,
    dropout: float = DROPOUT,
    weight_decay: float = WEIGHT_DECAY,
) -> object:
    """`count` heads from seeds seed, seed+1, ..., averaged into one torch module.

    Heads trained on the same data from different seeds make different mistakes on speech
    they never saw; their mean false-accepts less than any one of them.
    """
    from torch import nn

    class MeanOfHeads(nn.Module):
        def __init__(self, heads: list[Any]) -> None:
            super().__init__()
            self.heads = nn.ModuleList(heads)

        def forward(self, embeddings: object) -> object:
            import torch

            return torch.stack([head(embeddings) for head in self.heads]).mean(0)

    heads = [
        _train_head(positives, negatives, hard_negatives, seed + k, epochs, dropout, weight_decay)
        for k in tqdm(range(count), desc="training heads", unit="head", disable=None)
    ]
    return MeanOfHeads(heads).eval()


def _train_head(
    positives: np.ndarray, negatives: np.ndarray, hard_negatives: np.ndarray, seed: int,
    epochs: int, dropout: float, weight_decay: float,
) -> object:  # fmt: skip
    """A torch module mapping (n, WINDOW, 96) embeddings to a 0..1 score."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(WINDOW * EMBEDDING_DIM, 64),
        nn.LayerNorm(64),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(64, 64),
        nn.LayerNorm(64),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(64, 1),
        nn.Sigmoid(),
    )
    groups = [
        (positives, 1.0, 1.0),
        (negatives, 0.0, NEGATIVE_WEIGHT),
        (hard_negatives, 0.0, HARD_NEGATIVE_WEIGHT),
    ]
    groups = [group for group in groups if len(group[0])]
    x = torch.from_numpy(np.concatenate([windows for windows, _, _ in groups]).astype(np.float32))
    y = torch.cat([torch.full((len(windows),), label) for windows, label, _ in groups])
    # each group weighs its total, however many windows it has
    weight = torch.cat([torch.full((len(w),), total / len(w)) for w, _, total in groups])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    batch = 512
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch):
            index = order[start : start + batch]
            scores = model(x[index]).squeeze(1)
            loss = nn.functional.binary_cross_entropy(scores, y[index], weight=weight[index])
            optimizer.zero_grad()
            (loss * len(x) / len(index)).backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    model.eval()
    return model


def scores(model: object, windows: np.ndarray, batch: int = 65536) -> np.ndarray:
    """The model's score of each (WINDOW, 96) window, a batch at a time (pools are gigabytes)."""
    import torch

    out = [np.zeros(0, np.float32)]
    with torch.no_grad():
        for start in range(0, len(windows), batch):
            part = np.ascontiguousarray(windows[start : start + batch], dtype=np.float32)
            out.append(model(torch.from_numpy(part)).squeeze(1).numpy())  # type: ignore[operator]
    return np.concatenate(out)


def export_onnx(model: object, path: Path) -> None:
    """ONNX with a fixed (1, WINDOW, 96) input, as the runtime's WakeHead expects."""
    import torch

    example = torch.zeros(1, WINDOW, EMBEDDING_DIM)
    torch.onnx.export(
        model,  # type: ignore[arg-type]
        (example,),
        str(path),
        input_names=["embeddings"],
        output_names=["score"],
        dynamo=False,
    )


def windows_ending_at(features: np.ndarray, ends: list[int]) -> np.ndarray:
    """(len(ends), WINDOW, 96): the WINDOW embeddings up to and including each end index."""
    return np.stack([features[end - WINDOW + 1 : end + 1] for end in ends])
