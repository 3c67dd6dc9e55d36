"""The head: a small MLP over 16 speech embeddings, trained with torch and exported to ONNX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgeai.wake.frontend import EMBEDDING_DIM

WINDOW = 16
"""Embeddings the head looks at: 16 x 80 ms = 1.28 s, as openWakeWord's heads."""


NEGATIVE_WEIGHT = 10.0
"""False accepts cost more than false rejects: negatives weigh this much more, in total."""
DROPOUT = 0.3


def train_head(positives: np.ndarray, negatives: np.ndarray, seed: int, epochs: int = 30) -> object:
    """A torch module mapping (n, WINDOW, 96) embeddings to a 0..1 score."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(WINDOW * EMBEDDING_DIM, 64),
        nn.LayerNorm(64),
        nn.ReLU(),
        nn.Dropout(DROPOUT),
        nn.Linear(64, 64),
        nn.LayerNorm(64),
        nn.ReLU(),
        nn.Dropout(DROPOUT),
        nn.Linear(64, 1),
        nn.Sigmoid(),
    )
    x = torch.from_numpy(np.concatenate([positives, negatives]).astype(np.float32))
    y = torch.cat([torch.ones(len(positives)), torch.zeros(len(negatives))])
    weight = torch.cat(
        [
            torch.full((len(positives),), 1.0 / len(positives)),
            torch.full((len(negatives),), NEGATIVE_WEIGHT / len(negatives)),
        ]
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-3)
    generator = torch.Generator().manual_seed(seed)
    batch = 512
    for _ in tqdm(range(epochs), desc="training the head", unit="epoch", disable=None):
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


def scores(model: object, windows: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = model(torch.from_numpy(windows.astype(np.float32)))  # type: ignore[operator]
    return np.asarray(out.squeeze(1).numpy())


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
