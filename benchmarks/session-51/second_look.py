"""A second look for the wake word below its threshold: where the bundled head's score rises
above LOW but stays under its threshold, the last seconds of audio are scored again by the same
head after a change that undoes what the held-out misses are made of (fast, quiet): slowed down
(resampled as a tape is, or lengthened by Praat's overlap-add keeping the pitch) or brought up
to a speaking level. Every candidate's best score under each view is written out, so false
rejects and false accepts can be read at any second threshold afterwards (second_look_read.py).

usage: second_look.py DEV.pkl HEAD.onnx LOW OUT.jsonl"""
import sys
from pathlib import Path

import numpy as np
import parselmouth
import soxr
from parselmouth.praat import call

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1] / "session-45")]
from cached_sets import write_looks  # noqa: E402
from head_scores import BLOCK_S, frontend, session, trace  # noqa: E402


dev_path, head_path, low, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
THRESHOLD = 0.5152
LOOKAHEAD = 4
"""Blocks after the first crossing of LOW in which the score's peak is looked for (320 ms)."""
BEFORE_S, AFTER_S = 2.5, 0.16
SR = 16000
fe = frontend()
head = session(head_path)
silence = fe.silence_embedding


def tape(audio: np.ndarray, factor: float) -> np.ndarray:
    return soxr.resample(audio.astype(np.float32), SR, SR * factor)


def overlap_add(audio: np.ndarray, factor: float) -> np.ndarray:
    sound = parselmouth.Sound(audio.astype(np.float64) / 32768, SR)
    longer = call(sound, "Lengthen (overlap-add)", 75, 600, factor)
    return longer.values[0] * 32768


def level(audio: np.ndarray, target_dbfs: float) -> np.ndarray:
    """The loudest 100 ms brought to target_dbfs RMS."""
    x = audio.astype(np.float64)
    frames = x[: len(x) // 1600 * 1600].reshape(-1, 1600)
    loudest = float(np.sqrt((frames**2).mean(axis=1)).max()) if len(frames) else 0.0
    if loudest <= 0:
        return x
    return x * (32768 * 10 ** (target_dbfs / 20) / loudest)


VIEWS = {
    "as heard": lambda a: a,
    "tape x1.2": lambda a: tape(a, 1.2),
    "ola x1.15": lambda a: overlap_add(a, 1.15),
    "ola x1.25": lambda a: overlap_add(a, 1.25),
    "ola x1.5": lambda a: overlap_add(a, 1.5),
    "level -20": lambda a: level(a, -20.0),
    "level -20 ola x1.25": lambda a: overlap_add(level(a, -20.0), 1.25),
}


def best(audio: np.ndarray) -> float:
    clipped = np.clip(audio, -32768, 32767)
    usable = len(clipped) // 1280 * 1280
    scores = trace(head, fe.features(clipped[:usable]).astype(np.float32), silence)
    return float(scores.max())


def looks(audio: np.ndarray, scores: np.ndarray) -> list[dict]:
    """Every place the score crosses LOW while under the threshold: the peak's time and the
    best score under each view of the audio before it. Firings at the threshold are kept too."""
    found, quiet, look_quiet = [], 0.0, 0.0
    for i, s in enumerate(scores):
        now = (i + 1) * BLOCK_S
        if s >= THRESHOLD and now >= quiet:
            found.append({"at": now, "base": float(s), "fired": True})
            quiet = now + 2.0
            continue
        if s < low or now < look_quiet or now < quiet:
            continue
        ahead = scores[i : i + LOOKAHEAD]
        look_quiet = now + 1.0
        if ahead.max() >= THRESHOLD:
            continue  # the head itself fires within the lookahead
        peak = i + int(np.argmax(ahead))
        at = (peak + 1) * BLOCK_S
        a, b = int(max(0.0, at - BEFORE_S) * SR), int(min(len(audio) / SR, at + AFTER_S) * SR)
        window = audio[a:b]
        views = {name: round(best(view(window)), 4) for name, view in VIEWS.items()}
        found.append({"at": at + (LOOKAHEAD - (peak - i)) * BLOCK_S, "base": float(ahead.max()),
                      "fired": False, "views": views})
    return found


write_looks(dev_path, out, lambda audio: looks(audio, trace(head, fe.features(audio).astype(np.float32), silence)))
