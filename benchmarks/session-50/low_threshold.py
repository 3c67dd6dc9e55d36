"""How many held-out (MBROLA) and in-family "hey jarvis" phrases the bundled head reaches at all:
each phrase's best score within -0.5..+1.0 s of its end, so false rejects can be read at any
threshold, down to where only a second stage (a verifier) could take the false accepts back.
bench wake's seed-2026 dev draws (the same functions and seed as `edgeai bench wake`).

usage: low_threshold.py HEAD.onnx N OUT.json"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "session-45"))
from head_scores import BLOCK_S, frontend, session, trace  # noqa: E402

from edgeai.runtime.context import AppContext  # noqa: E402
from edgeai.synthetic import wake_data as wd  # noqa: E402
from edgeai.synthetic.held_out_voices import held_out_split  # noqa: E402
from edgeai.synthetic.speech import Synthesizer  # noqa: E402

head_path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fe = frontend()
head = session(head_path)
silence = fe.silence_embedding
synth = Synthesizer(None)
THRESHOLDS = (0.5152, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01)
result = {}
for family, split in (("in-family", wd.dev_split), ("held-out", held_out_split)):
    dev = wd.dev_set(synth, "hey jarvis", n, 10.0, 2026, near_miss_count=1, family=split)
    for kind, clips in (("ordinary", dev.positives), ("after speech", dev.after_speech)):
        best = []
        for p in clips:
            scores = trace(head, fe.features(p.clip).astype(np.float32), silence)
            end = p.end_sample / 16000
            times = (np.arange(len(scores)) + 1) * BLOCK_S
            near = (times >= end - 0.5) & (times <= end + 1.0)
            best.append(float(scores[near].max()) if near.any() else 0.0)
        best = np.array(best)
        row = {f"{t:g}": int((best < t).sum()) for t in THRESHOLDS}
        result[f"{family} {kind}"] = {"n": len(best), "missed_at": row}
        print(family, kind, len(best), row, flush=True)
json.dump(result, open(out, "w"), indent=1)
