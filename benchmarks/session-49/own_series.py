"""The stop head's score over the first 1.2 s of replies 4 and 6 (after silence), on the playback.

usage: own_series.py CONFIG.yaml OWN_CACHE.pkl"""
import pickle, sys
from pathlib import Path
import numpy as np
from edgeai.runtime.context import AppContext
from edgeai.ears.listener import build_listener
from edgeai.ears.wake.frontend import BLOCK_SAMPLES
app = AppContext(Path(sys.argv[1])); profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
det = build_listener(conf, profile, app.store, app.catalog).detector
d = pickle.load(open(sys.argv[2], "rb"))
for i in (4, 6):
    reply = d["own"][i][0]
    audio = np.concatenate([np.zeros(32000, np.int16), reply])
    stream = det.frontend.stream(); row = []
    for k in range(0, 32000 + 25000, BLOCK_SAMPLES):
        emb = stream.push(audio[k:k + BLOCK_SAMPLES])
        t = (k + BLOCK_SAMPLES - 32000) / 16000
        if t > 0: row.append(f"{t:.2f}:{det.heads[-1].score(emb):.3f}")
    print(i, det.heads[-1].spec.name, " ".join(row))
