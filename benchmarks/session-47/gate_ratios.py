"""What the residue gate (EchoCanceller.mostly_echo) sees at each detection that reaches it:
the linear canceller's output over the raw microphone, in dB, over several spans ending at the
detection, and AEC3's output over the linear canceller's; for the users' words said during playback (bench echo's cached word trials) and for
every detection over the cache's own replies (the residue of edgeai's own voice).

usage: gate_ratios.py CACHE.pkl CONFIG.yaml OUT.json
"""
import sys, json, pickle
from pathlib import Path
import numpy as np
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.ears import echo as ee
from edgeai.ears.listener import build_listener

SPANS = (0.3, 0.5, 0.75, 1.0)
history = []
aec3 = []  # (raw energy, AEC3's output energy, linear output energy, samples) per block
orig_process = ee.EchoCanceller._process
def process(self, block, played):
    out = orig_process(self, block, played)
    e = lambda a: float(np.sum(np.asarray(a, np.float64) ** 2))
    aec3.append((e(block), e(out), e(self.for_words), len(block)))
    return out
ee.EchoCanceller._process = process
orig_remember, orig_mostly = ee.EchoCanceller._remember, ee.EchoCanceller.mostly_echo
def remember(self, raw, cleaned, samples):
    history.append((raw, cleaned, samples)); orig_remember(self, raw, cleaned, samples)
seen = []
def mostly(self):
    out = {}
    for span in SPANS:
        raw = cleaned = 0.0; n = 0
        for r, c, s in reversed(history):
            if n >= span * 16000: break
            raw += r; cleaned += c; n += s
        out[span] = 10 * np.log10(cleaned / raw) if raw > 0 and cleaned > 0 else None
        a = l = 0.0; n = 0
        for _, ao, lo, s in reversed(aec3):
            if n >= span * 16000: break
            a += ao; l += lo; n += s
        out[f"aec3/linear {span}"] = 10 * np.log10(a / l) if a > 0 and l > 0 else None
    r = orig_mostly(self); seen.append(("gate", out, r)); return r
orig_said = ee.OwnWords.said
def said(self, name, *delay):
    r = orig_said(self, name, *delay); seen.append(("own", r)); return r
ee.EchoCanceller._remember, ee.EchoCanceller.mostly_echo, ee.OwnWords.said = remember, mostly, said

data = pickle.load(open(sys.argv[1], "rb"))
app = AppContext(Path(sys.argv[2])); profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
rows = []
for i, t in enumerate(data["word_trials"]):
    listener = build_listener(conf, profile, app.store, app.catalog)
    be._heard(listener, t["earlier"], t["before"])
    history.clear(); seen.clear(); aec3.clear()
    orig_push = listener.detector.push
    times = []
    def push(block, orig_push=orig_push, listener=listener):
        found = orig_push(block)
        for f in found: times.append((f.name, f.at_s))
        return found
    listener.detector.push = push
    start = listener.now_s
    be._heard(listener, t["mic"], t["reply"])
    calls = iter(seen)
    for n, s in times:
        rel = s - start - t["word_at_s"]
        row = dict(trial=i, kind="word" if (n == t["name"] and 0 <= rel <= be.WORD_FOUND_WITHIN_S) else "other", name=n, rel=round(rel, 2))
        own = next(calls)
        row["own"] = own[1]
        if not own[1]:
            _, spans, gated = next(calls)
            row.update(spans={str(k): v for k, v in spans.items()}, gated=gated)
        rows.append(row)
listener = build_listener(conf, profile, app.store, app.catalog)
history.clear(); seen.clear()
for reply, mic in data["own"]:
    be._heard(listener, mic, reply)
own = [dict(kind="own", spans={str(k): v for k, v in c[1].items()}, gated=c[2]) for c in seen if c[0] == "gate"]
json.dump(dict(words=rows, own=own), open(sys.argv[3], "w"), indent=1)
for kind in ("word", "other"):
    for r in rows:
        if r["kind"] == kind and "spans" in r:
            print(kind, r["name"], r["rel"], r["gated"], {k: round(v, 1) if v is not None else None for k, v in r["spans"].items()})
for r in own:
    print("own", r["gated"], {k: round(v, 1) if v is not None else None for k, v in r["spans"].items()})
