"""Where in the played audio the own-word check finds its word: for every check the listener
makes (OwnWords.said), the playback's score per 80 ms block of the look-back, how far
before the microphone's detection the highest one is, and the canceller's measured delay; for the users' words during playback
(bench echo's cached word trials) and for the residue of edgeai's own replies.

usage: own_offsets.py OUT.json CONFIG.yaml CACHE.pkl ...
"""
import sys, json, pickle
from pathlib import Path
import numpy as np
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.ears import echo as ee
from edgeai.ears.listener import build_listener

checks = []
current = [None]  # the listener being fed, for its canceller's measured delay
def said(self, name, *delay):
    """The check as it was before OWN_LAG_S: the whole WORD_SPAN_S and longest delay back."""
    if not self._playing:
        return False
    head = next(h for h in self.detector.heads if h.spec.name == name)
    stream = self.detector.frontend.stream()
    blocks = list(self._played)
    scores = []
    for index, block in enumerate(blocks):
        emb = stream.push(block)
        ago = (len(blocks) - index - 1) * ee.BLOCK_S
        if ago <= ee.WORD_SPAN_S + self.max_delay_s:
            scores.append((round(ago, 2), float(head.score(emb))))
    self.last_score = max([s for _, s in scores] + [0.0])
    own = self.last_score >= ee.OWN_SCORE * head.spec.threshold
    delay = current[0].echo.status().delay_ms if current[0] is not None else None
    checks.append(dict(name=name, threshold=head.spec.threshold, own=own, scores=scores, delay_ms=delay))
    return own
ee.OwnWords.said = said

app = AppContext(Path(sys.argv[2])); profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
out = dict(words=[], own=[])
for cache in sys.argv[3:]:
    data = pickle.load(open(cache, "rb"))
    for i, t in enumerate(data["word_trials"]):
        listener = current[0] = build_listener(conf, profile, app.store, app.catalog)
        be._heard(listener, t["earlier"], t["before"])
        checks.clear()
        start = listener.now_s
        times = []
        orig = listener.detector.push
        def push(block, orig=orig):
            found = orig(block); times.extend((f.name, f.at_s) for f in found); return found
        listener.detector.push = push
        be._heard(listener, t["mic"], t["reply"])
        for (n, s), c in zip(times, checks):
            rel = s - start - t["word_at_s"]
            c.update(cache=cache, trial=i, rel=round(rel, 2),
                     users=bool(n == t["name"] and 0 <= rel <= be.WORD_FOUND_WITHIN_S))
            out["words"].append(c)
    listener = current[0] = build_listener(conf, profile, app.store, app.catalog)
    checks.clear()
    for reply, mic in data["own"]:
        be._heard(listener, mic, reply)
    for c in checks:
        c.update(cache=cache)
    out["own"].extend(checks)
    print(cache, "done", flush=True)
json.dump(out, open(sys.argv[1], "w"))
def peak(c):
    ago, s = max(c["scores"], key=lambda x: x[1]); return ago, s
for kind in ("words", "own"):
    for c in out[kind]:
        ago, s = peak(c)
        print(kind, c["name"], "users" if c.get("users") else "", f"peak {s:.3f} at {ago:.2f} s before (thr {c['threshold']:.2f}), delay {c['delay_ms']} ms")
