"""Variants of the wake word's second look on session 51's cached tuning sets: how long it
waits after the score's rise (the bundled look waits 4 blocks, 320 ms, and put the held-out
delay p95 at 311 ms against a 300 ms target), how much audio it hears (the last 2.9 s, or only
the last 1.6-2.0 s, so speech said before the phrase is not in it) and how much it lengthens.
The rise that starts a look is the runtime's (`SecondLook`: over LOW, not while the word
rests, one per LOOK_GAP_S); a look is skipped where the head fires during the wait. Each
variant's score is written; look_variants_read.py reads the misses, false accepts and delays.

usage: look_variants.py SETS.pkl HEAD.onnx LOW OUT.jsonl   (SETS: session 51's tuning_cache.py)"""
import sys
from collections import deque
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).parents[1] / "session-51"), str(Path(__file__).parents[1] / "session-45")]
from cached_sets import write_looks  # noqa: E402
from head_scores import BLOCK_S, frontend  # noqa: E402

from edgeai.ears.wake.evaluate import REFRACTORY_S  # noqa: E402
from edgeai.ears.wake.frontend import BLOCK_SAMPLES  # noqa: E402
from edgeai.ears.wake.heads import WakeHead, WakeWordSpec  # noqa: E402
from edgeai.ears.wake.second_look import AUDIO_S, LOOK_GAP_S, lengthen  # noqa: E402

sets_path, head_path, low, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
THRESHOLD = 0.5152
VARIANTS = {  # name: (blocks waited, seconds heard, lengthening)
    "w4 2.9s x1.35": (4, AUDIO_S, 1.35),
    "w3 2.9s x1.35": (3, AUDIO_S, 1.35),
    "w2 2.9s x1.35": (2, AUDIO_S, 1.35),
    "w3 2.9s x1.5": (3, AUDIO_S, 1.5),
    "w3 2.0s x1.35": (3, 2.0, 1.35),
    "w3 1.6s x1.35": (3, 1.6, 1.35),
}
HEARD = max(s for _, s, _ in VARIANTS.values())
fe = frontend()
head = WakeHead(WakeWordSpec("hey_jarvis", Path(head_path), THRESHOLD, REFRACTORY_S))


def rescore(audio: np.ndarray) -> float:
    stream = fe.stream()
    return max(head.score(stream.push(audio[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]))
               for i in range(len(audio) // BLOCK_SAMPLES))


def looks(audio: np.ndarray) -> list[dict]:
    stream = fe.stream()
    recent: deque[np.ndarray] = deque(maxlen=int(np.ceil(HEARD / BLOCK_S)))
    found, quiet_until, next_s, rise = [], 0.0, 0.0, None
    for i in range(len(audio) // BLOCK_SAMPLES):
        block = audio[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]
        recent.append(block)
        score = head.score(stream.push(block))
        now = (i + 1) * BLOCK_S
        quiet = now < quiet_until
        if score >= THRESHOLD:
            rise = None  # the head fired itself (or rests): no look for this rise
            if not quiet:
                found.append({"at": now, "fired": True})
                quiet_until = now + REFRACTORY_S
            continue
        if rise is None and score >= low and not quiet and now >= next_s:
            rise, next_s = i, now + LOOK_GAP_S
            continue
        if rise is None:
            continue
        for name, (wait, seconds, factor) in VARIANTS.items():
            if i - rise == wait:
                heard = np.concatenate(recent)[-int(seconds * 16000):]
                found.append({"at": now, "fired": False, "variant": name,
                              "score": round(rescore(lengthen(heard, factor)), 4)})
        if i - rise >= max(w for w, _, _ in VARIANTS.values()):
            rise = None
    return found


write_looks(sets_path, out, looks)
