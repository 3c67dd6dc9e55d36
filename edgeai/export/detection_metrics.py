"""How good a detector is on labelled pictures, and how closely an export agrees with its source.

mAP@0.5 is the PASCAL VOC measure (all-point interpolated average precision per class, IoU 0.5,
averaged over the classes that occur); box agreement is the F1 score of an export's confident
boxes against its source's, so a gate catches an export that is wrong in ways the labels do not
cover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from edgeai.vision.detection import Box, Detection

IOU_MATCH = 0.5


def mean_average_precision(
    predictions: Sequence[Sequence[Detection]],
    truths: Sequence[Sequence[tuple[str, Box]]],
) -> tuple[float, dict[str, float]]:
    """mAP@0.5 over the classes present in `truths`, and the AP of each of them."""
    classes = sorted({label for truth in truths for label, _ in truth})
    per_class = {label: _average_precision(label, predictions, truths) for label in classes}
    mean = float(np.mean(list(per_class.values()))) if per_class else 0.0
    return mean, per_class


def box_agreement(
    candidate: Sequence[Sequence[Detection]], reference: Sequence[Sequence[Detection]]
) -> float:
    """F1 of `candidate`'s boxes against `reference`'s (same class, IoU ≥ 0.5); 1.0 if both
    found nothing anywhere."""
    matched = found = expected = 0
    for mine, theirs in zip(candidate, reference, strict=True):
        found += len(mine)
        expected += len(theirs)
        matched += _count_matches(mine, [(d.label, d.box) for d in theirs])
    if found + expected == 0:
        return 1.0
    return 2 * matched / (found + expected)


def _average_precision(
    label: str,
    predictions: Sequence[Sequence[Detection]],
    truths: Sequence[Sequence[tuple[str, Box]]],
) -> float:
    wanted: Mapping[int, list[Box]] = {
        i: [box for name, box in truth if name == label] for i, truth in enumerate(truths)
    }
    total = sum(len(boxes) for boxes in wanted.values())
    ranked = sorted(
        (
            (d.score, i, d.box)
            for i, found in enumerate(predictions)
            for d in found
            if d.label == label
        ),
        key=lambda item: -item[0],
    )
    taken = {i: [False] * len(boxes) for i, boxes in wanted.items()}
    hits = np.zeros(len(ranked))
    for rank, (_, image, box) in enumerate(ranked):
        overlaps = [box.iou(other) for other in wanted[image]]
        best = int(np.argmax(overlaps)) if overlaps else -1
        if best >= 0 and overlaps[best] >= IOU_MATCH and not taken[image][best]:
            taken[image][best] = True
            hits[rank] = 1
    if total == 0:
        return 0.0
    true_positives = np.cumsum(hits)
    recall = true_positives / total
    precision = true_positives / np.arange(1, len(ranked) + 1)
    return _area_under(recall, precision)


def _area_under(recall: np.ndarray, precision: np.ndarray) -> float:
    """VOC all-point interpolation: precision made monotone, summed over recall steps."""
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(p) - 2, -1, -1):
        p[i] = max(p[i], p[i + 1])
    steps = np.nonzero(r[1:] != r[:-1])[0]
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def _count_matches(found: Sequence[Detection], expected: Sequence[tuple[str, Box]]) -> int:
    taken = [False] * len(expected)
    matches = 0
    for detection in sorted(found, key=lambda d: -d.score):
        for j, (label, box) in enumerate(expected):
            if not taken[j] and label == detection.label and detection.box.iou(box) >= IOU_MATCH:
                taken[j] = True
                matches += 1
                break
    return matches
