"""Per trial of one word (env WORD: stop, the default, or hey_jarvis) of bench echo's cached
word trials, what the listener did with the word: the word's head's block scores around the word, every detection, and which gate took it
(the own-word check with the playback's score, the residue gate, or the refractory after an
earlier detection).

usage: [WORD=hey_jarvis] word_trace.py CACHE.pkl CONFIG.yaml   (a config naming the heads, as echo_side.py's)
"""
import os, sys, pickle
from pathlib import Path
import numpy as np
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.ears import echo as ee
from edgeai.ears.wake import heads as wh
from edgeai.ears.listener import build_listener

events = []  # (kind, detail)
in_check = [False]
orig_said, orig_mostly, orig_score = ee.OwnWords.said, ee.EchoCanceller.mostly_echo, wh.WakeHead.score
def said(self, name, *delay):
    in_check[0] = True
    try:
        r = orig_said(self, name, *delay)
    finally:
        in_check[0] = False
    events.append(("own" if r else "not-own", name, round(self.last_score, 3)))
    return r
def mostly(self):
    r = orig_mostly(self); events.append(("mostly_echo" if r else "not-echo", None, None)); return r
scores = []
def score(self, emb):
    s = orig_score(self, emb)
    if not in_check[0] and self.spec.name == WORD:
        scores.append(s)
    return s
ee.OwnWords.said, ee.EchoCanceller.mostly_echo, wh.WakeHead.score = said, mostly, score

WORD = os.environ.get("WORD", "stop")
data = pickle.load(open(sys.argv[1], "rb"))
app = AppContext(Path(sys.argv[2])); profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
thr = next(w for w in build_listener(conf, profile, app.store, app.catalog).detector.heads if w.spec.name == WORD).spec.threshold
heard = 0
for i, t in enumerate(data["word_trials"]):
    if t["name"] != WORD:
        continue
    listener = build_listener(conf, profile, app.store, app.catalog)
    be._heard(listener, t["earlier"], t["before"])
    start = listener.now_s
    n0 = len(scores); events.clear()
    found = [(n, s - start) for n, s in be._heard(listener, t["mic"], t["reply"])]
    ok = be._found(found, WORD, t["word_at_s"])
    heard += ok
    s = np.array(scores[n0:]); w = t["word_at_s"]
    blk = 0.08
    times = np.arange(1, len(s) + 1) * blk  # block end times from the trial's start
    near = (times >= w - 0.3) & (times <= w + 1.5)
    above = [(round(float(tt - w), 2), round(float(v), 2)) for tt, v in zip(times, s) if v >= thr]
    peak = float(s[near].max()) if near.any() else 0.0
    print(f"trial {i//2:2d} heard={ok} peak-near-word={peak:.2f} thr={thr:.2f} above(t-word,score)={above} gates={[e for e in events if e[1] in (WORD, None)]}")
print("heard", heard)
