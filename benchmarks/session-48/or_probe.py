"""bench echo's cached word trials and own replies through the runtime's listener (canceller on)
with the heads CONFIG names: words heard, self-triggers, and per stop trial which stop heads
fired near the word (several stop words stop, stop_b, stop_c...: either one is a "stop").

usage: or_probe.py CONFIG.yaml CACHE.pkl ...   (caches as benchmarks/session-45/echo_side.py writes them)"""
import sys, pickle
from pathlib import Path
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.ears.listener import build_listener
app = AppContext(Path(sys.argv[1])); profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
norm = lambda n: "stop" if n.startswith("stop") else n
for cache in sys.argv[2:]:
    d = pickle.load(open(cache, "rb")); hits = {}; per = []
    for t in d["word_trials"]:
        listener = build_listener(conf, profile, app.store, app.catalog)
        be._heard(listener, t["earlier"], t["before"])
        start = listener.now_s
        raw = [(n, s - start) for n, s in be._heard(listener, t["mic"], t["reply"])]
        found = [(norm(n), s) for n, s in raw]
        got = be._found(found, t["name"], t["word_at_s"])
        hits[t["name"]] = hits.get(t["name"], 0) + got
        if t["name"] == "stop": per.append("".join(sorted({n[-1] for n, s in raw if n.startswith("stop") and 0 <= s - t["word_at_s"] <= 1.5})) or "-")
    listener = build_listener(conf, profile, app.store, app.catalog); selfs = {}
    for reply, mic in d["own"]:
        for n, _ in be._heard(listener, mic, reply): selfs[n] = selfs.get(n, 0) + 1
    print(cache, hits, "self", selfs, "per stop trial", " ".join(per), flush=True)
