"""The words' linear canceller (speex) with other frame sizes and filter tails, and the
residue gate at other levels: bench echo's
cached word trials heard through the listener (each head at its threshold, every gate on) and
self-triggers over the cache's own replies, per setting.

usage: linear_probe.py CACHE.pkl CONFIG.yaml OUT.json FRAME_MS:TAIL_MS[:GATE_DB] ...
(GATE_DB: the residue gate's MOSTLY_ECHO_DB for that setting; the runtime's when left out)
"""
import sys, json, pickle
from pathlib import Path
import numpy as np
from speexdsp_aec import SpeexAec
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.ears import echo as ee
from edgeai.ears.listener import build_listener

data = pickle.load(open(sys.argv[1], "rb"))
app = AppContext(Path(sys.argv[2])); profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
results = {}
GATE_DB = ee.MOSTLY_ECHO_DB
for setting in sys.argv[4:]:
    frame_ms, tail_ms, *gate = (float(x) for x in setting.split(":"))
    frame_ms, tail_ms = int(frame_ms), int(tail_ms)
    ee.MOSTLY_ECHO_DB = gate[0] if gate else GATE_DB
    ee.load_linear_canceller = lambda: SpeexAec(16000, frame_ms, tail_ms)
    hits, erle = {}, []
    for t in data["word_trials"]:
        listener = build_listener(conf, profile, app.store, app.catalog)
        be._heard(listener, t["earlier"], t["before"])
        start = listener.now_s
        found = [(n, s - start) for n, s in be._heard(listener, t["mic"], t["reply"])]
        h = hits.setdefault(t["name"], 0); hits[t["name"]] = h + be._found(found, t["name"], t["word_at_s"])
    listener = build_listener(conf, profile, app.store, app.catalog)
    selfs = {}
    for reply, mic in data["own"]:
        for n, _ in be._heard(listener, mic, reply):
            selfs[n] = selfs.get(n, 0) + 1
    results[setting] = dict(heard=hits, of=len(data["word_trials"]) // 2, self_triggers=selfs)
    print(setting, results[setting], flush=True)
json.dump(results, open(sys.argv[3], "w"), indent=1)
