"""MediaPipe BlazeFace (short and full range) face detectors, TFLite files run by OpenVINO.

Input (1, S, S, 3) RGB in -1..1; outputs per anchor 16 regressors (box centre and size plus six
key points, in input pixels relative to the anchor) and one logit. The anchors are the fixed SSD
grid MediaPipe generates from the model's strides, rebuilt here from the input size.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgeai.engines.tensor import TensorModel
from edgeai.errors import ModelLoadError
from edgeai.vision.detection import Box, Detection, clip_boxes, non_max_suppression

# input size -> (stride, anchors per cell) for each feature map, as in MediaPipe's graphs
ANCHOR_LAYOUTS = {
    128: [(8, 2), (16, 6)],  # short range: 16x16x2 + 8x8x6 = 896
    192: [(4, 1)],  # full range: 48x48x1 = 2304
}
LOGIT_CLIP = 100.0


class BlazeFaceDetector:
    labels: tuple[str, ...] = ("face",)

    def __init__(
        self,
        model: TensorModel,
        path: Path,
        score_threshold: float = 0.6,
        iou_threshold: float = 0.3,
    ) -> None:
        shape = model.input_shape
        if len(shape) != 4 or shape[3] != 3 or shape[1] not in ANCHOR_LAYOUTS:
            raise ModelLoadError(
                f"{path}: not a BlazeFace model: input {list(shape)}, expected [1, S, S, 3] "
                f"with S in {sorted(ANCHOR_LAYOUTS)}"
            )
        self.size = int(shape[1])
        self._anchors = _anchors(self.size)
        outputs = model.output_shapes
        if len(outputs) != 2 or outputs[0][1] != len(self._anchors):
            raise ModelLoadError(
                f"{path}: not a BlazeFace model: outputs {outputs}, expected "
                f"{len(self._anchors)} anchors"
            )
        self._model = model
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold

    def detect(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        rgb = cv2.resize(image, (self.size, self.size))[:, :, ::-1]
        tensor = (rgb.astype(np.float32) / 127.5 - 1.0)[None]
        regressors, logits = (o.reshape(len(self._anchors), -1) for o in self._model.run(tensor))
        logit = np.clip(logits[:, 0].astype(np.float64), -LOGIT_CLIP, LOGIT_CLIP)
        scores = 1 / (1 + np.exp(-logit))
        keep = scores >= self.score_threshold
        if not keep.any():
            return []
        centres = self._anchors[keep] + regressors[keep, :2] / self.size
        sizes = regressors[keep, 2:4] / self.size
        corners = np.column_stack([centres - sizes / 2, centres + sizes / 2]) * [w, h, w, h]
        boxes = clip_boxes(corners.astype(np.float32), w, h)
        scores = scores[keep]
        kept = non_max_suppression(boxes, scores, np.zeros(len(scores), int), self.iou_threshold)
        return [Detection("face", float(scores[i]), Box(*map(float, boxes[i]))) for i in kept]


def _anchors(size: int) -> np.ndarray:
    """(N, 2) anchor centres in 0..1, in the order of the model's outputs."""
    centres = []
    for stride, per_cell in ANCHOR_LAYOUTS[size]:
        cells = size // stride
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell)
    return np.asarray(centres, np.float32)
