"""Trials of bench echo's cached word trials: the word's head's best score with the echo at
several levels, and with the echo only before or only from the word on (30 dB under the mic's).

usage: residue_level.py CONFIG.yaml CACHE.pkl TRIAL...   (CONFIG names the heads, as or_probe.py's)"""
import sys, pickle
from pathlib import Path
import numpy as np
from edgeai.runtime.context import AppContext
from edgeai.ears.listener import load_wake_detector
app = AppContext(Path(sys.argv[1])); profile = app.active_profile()
det0 = load_wake_detector(app.config.wake.words + app.config.wake.stop_words, profile, app.store, app.catalog)
k = 10 ** (-30 / 20)
def best(audio, name, at):
    det = det0.fresh(); b = 0.0
    for s in range(0, len(audio) - 1280 + 1, 1280):
        emb = det._stream.push(audio[s:s+1280]); det._blocks += 1
        if at <= det.heard_s <= at + 1.5:
            for h in det.heads:
                if h.spec.name == name: b = max(b, h.score(emb))
    return b
d = pickle.load(open(sys.argv[2], "rb"))
for i in map(int, sys.argv[3:]):
    t = d["word_trials"][i]
    ideal = t["ideal"].astype(np.float64); mic = t["mic"].astype(np.float64)
    alone = (ideal - k * mic) / (1 - k); echo = mic - alone
    at = t["word_at_s"]; w = int(at * 16000)
    row = []
    for db in (-60, -50, -40, -30, -24, -18):
        row.append("%d:%.3f" % (db, best(np.rint(alone + echo * 10 ** (db / 20)).astype(np.int16), t["name"], at)))
    pre = echo.copy(); pre[w:] = 0; post = echo.copy(); post[:w] = 0
    g = 10 ** (-30 / 20)
    row.append("before-only:%.3f" % best(np.rint(alone + pre * g).astype(np.int16), t["name"], at))
    row.append("from-word:%.3f" % best(np.rint(alone + post * g).astype(np.int16), t["name"], at))
    print(i, t["name"], " ".join(row), flush=True)
