"""What the session-45 scripts share: the front end, a head's score on every block of a stream
(from embeddings, as the trainer streams them, or from audio, as the detector hears it), and
the detector's firing times with its refractory."""
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edgeai.ears.wake.evaluate import REFRACTORY_S
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, WakeFrontend
from edgeai.ears.wake.heads import WakeHead, WakeWordSpec
from edgeai.runtime.context import AppContext

BLOCK_S = BLOCK_SAMPLES / 16000


def frontend() -> WakeFrontend:
    app = AppContext(None)
    return WakeFrontend(app.store.require(app.catalog.get("openwakeword-frontend")))


def session(path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def trace(head: ort.InferenceSession, features: np.ndarray, silence: np.ndarray) -> np.ndarray:
    """The head's score at every block of a fresh stream's embeddings (the stream starts as if
    silence came before it, as the front end's streams do)."""
    name, window = head.get_inputs()[0].name, head.get_inputs()[0].shape[1]
    padded = np.concatenate([np.repeat(silence.astype(np.float32), window, 0), features])
    return np.array([
        float(np.asarray(head.run(None, {name: padded[i + 1 : i + 1 + window][None]})[0]).reshape(-1)[0])
        for i in range(len(features))
    ])


def audio_trace(fe: WakeFrontend, head: WakeHead, audio: np.ndarray) -> np.ndarray:
    """The head's score at every 80 ms block of int16 audio, through a fresh stream."""
    stream = fe.stream()
    return np.array([head.score(stream.push(audio[i : i + BLOCK_SAMPLES]))
                     for i in range(0, len(audio) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES)])


def load_head(path: str, name: str = "hey_jarvis") -> WakeHead:
    return WakeHead(WakeWordSpec(name, Path(path), 0.5, REFRACTORY_S))


def fire_times(scores: np.ndarray, threshold: float) -> list[float]:
    """When the detector would report the word (block-end times), refractory included."""
    times, quiet = [], 0.0
    for i in np.flatnonzero(scores >= threshold):
        at = (i + 1) * BLOCK_S
        if at >= quiet:
            times.append(at)
            quiet = at + REFRACTORY_S
    return times
