"""The stop / hey jarvis heads on the clean playback of each reply after a second of digital
silence, against the same with a faint noise floor: the own-word check's view of a reply's start.

usage: own_probe.py CONFIG.yaml OWN_CACHE.pkl"""
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
for i in range(8):
    reply = d["own"][i][0]
    played = np.concatenate([np.zeros(32000, np.int16), reply])
    for noise_dbfs in (None, -90, -70, -60):
        audio = played.astype(np.float32)
        if noise_dbfs is not None:
            audio += np.random.default_rng(0).standard_normal(len(audio)).astype(np.float32) * 32768 * 10 ** (noise_dbfs / 20)
        audio = np.clip(np.rint(audio), -32768, 32767).astype(np.int16)
        stream = det.frontend.stream()
        best = {h.spec.name: (0.0, 0.0) for h in det.heads}
        for k in range(0, len(audio) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES):
            emb = stream.push(audio[k:k + BLOCK_SAMPLES])
            t = (k + BLOCK_SAMPLES - 32000) / 16000
            for h in det.heads:
                s = h.score(emb)
                if s > best[h.spec.name][0]:
                    best[h.spec.name] = (s, t)
        print(i, noise_dbfs, {n: (round(s, 3), round(t, 2)) for n, (s, t) in best.items()}, flush=True)
