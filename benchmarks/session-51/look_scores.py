"""The runtime's second look (edgeai/ears/wake/second_look.py) on cached sets: every look it
would take from LOW up, and the lengthened audio's score at each factor, so the second
threshold and the factor can be read afterwards at any value (look_read.py). The looks never
fire here; a passed look's refractory is applied when reading.

usage: look_scores.py SETS.pkl HEAD.onnx LOW OUT.jsonl   (SETS: dev_cache.py's or tuning_cache.py's)"""
import sys
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1] / "session-45")]
from cached_sets import write_looks  # noqa: E402
from head_scores import BLOCK_S, frontend  # noqa: E402

from edgeai.ears.wake.evaluate import REFRACTORY_S  # noqa: E402
from edgeai.ears.wake.frontend import BLOCK_SAMPLES  # noqa: E402
from edgeai.ears.wake.heads import SecondLookSpec, WakeHead, WakeWordSpec  # noqa: E402
from edgeai.ears.wake.second_look import SecondLook  # noqa: E402

sets_path, head_path, low, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
THRESHOLD = 0.5152
FACTORS = (1.0, 1.15, 1.25, 1.35, 1.5)
fe = frontend()
head = WakeHead(WakeWordSpec("hey_jarvis", Path(head_path), THRESHOLD, REFRACTORY_S))


def looks(audio: np.ndarray) -> list[dict]:
    """The head's own firings (refractory included) and each look's scores, by block-end time."""
    stream = fe.stream()
    lookers = {f: SecondLook(SecondLookSpec(low, 2.0, f), fe, head) for f in FACTORS}
    found, quiet_until = [], 0.0
    for i in range(len(audio) // BLOCK_SAMPLES):
        block = audio[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]
        score = head.score(stream.push(block))
        now = (i + 1) * BLOCK_S
        quiet = now < quiet_until
        looked = {f: look.push(block, score, now, quiet) for f, look in lookers.items()}
        if score >= THRESHOLD and not quiet:
            found.append({"at": now, "fired": True})
            quiet_until = now + REFRACTORY_S
        elif looked[FACTORS[0]] is not None:
            found.append({"at": now, "fired": False, "views": {f"{f:g}": round(v, 4) for f, v in looked.items()}})
    return found


write_looks(sets_path, out, looks)
