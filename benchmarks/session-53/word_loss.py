"""Where a talker family's words during playback are lost: per cached word trial, whether an
ideal canceller's output is heard (the heads alone, bench echo's `_heard_by`), whether the
runtime listener's detectors find the word before its gates (own-word check, residue gate,
relearning), on the linear or the suppressed output, and whether the listener reports it.

usage: word_loss.py CONFIG.yaml CACHE.pkl ..."""
import pickle
import sys
from collections import Counter
from pathlib import Path

from edgeai.bench import echo as be
from edgeai.ears.listener import build_listener
from edgeai.runtime.context import AppContext

app = AppContext(Path(sys.argv[1]))
profile = app.active_profile()
conf = {on: app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": on})})
        for on in (True, False)}
for cache in sys.argv[2:]:
    d = pickle.load(open(cache, "rb"))
    tally: Counter = Counter()
    for t in d["word_trials"]:
        ideal = be._heard_by(build_listener(conf[False], profile, app.store, app.catalog), t["ideal"], t["name"], t["word_at_s"])
        listener = build_listener(conf[True], profile, app.store, app.catalog)
        raw: list = []
        for attr in ("detector", "_playback_detector"):
            det = getattr(listener, attr)
            push = det.push

            def spy(*a, _push=push, _on=attr, **k):
                found = _push(*a, **k)
                raw.extend((f.name, listener.now_s, _on) for f in found)
                return found
            det.push = spy
        be._heard(listener, t["earlier"], t["before"])
        start = listener.now_s
        raw.clear()
        found = [(n, s - start) for n, s in be._heard(listener, t["mic"], t["reply"])]
        reported = be._found(found, t["name"], t["word_at_s"])
        pre = sorted({on for n, s, on in raw if n == t["name"] and 0 <= s - start - t["word_at_s"] <= be.WORD_FOUND_WITHIN_S})
        key = (t["name"], "ideal" if ideal else "-", "+".join(pre) or "none", "reported" if reported else "dropped" if pre else "-")
        tally[key] += 1
    print(cache)
    for k, v in sorted(tally.items()):
        print(f"  {v:3d}  {k[0]:10s} ideal canceller: {k[1]:6s} detectors before gates: {k[2]:28s} listener: {k[3]}")
