"""The words' suppressor during playback (PLAYBACK_SUPPRESSION) at other depths, through the
runtime listener on cached trials: words heard (in-family and held-out caches) and self-triggers
(own replies). The suppressor took the residue before a word that the heads miss it for
(held-out "stop": 21 of 48 through the runtime against 7 through an ideal canceller).

usage: suppression_probe.py CONFIG.yaml ECHO_DB ACTIVE_DB NOISE_DB CACHE.pkl ..."""
import sys
from pathlib import Path

from edgeai.bench import echo as be
from edgeai.ears import echo as ee
from edgeai.ears.listener import build_listener
from edgeai.ears.speex import Suppression
from edgeai.runtime.context import AppContext
import pickle

ee.PLAYBACK_SUPPRESSION = Suppression(*map(int, sys.argv[2:5]))
app = AppContext(Path(sys.argv[1]))
profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
norm = lambda n: "stop" if n.startswith("stop") else n  # noqa: E731
for cache in sys.argv[5:]:
    d = pickle.load(open(cache, "rb"))
    hits: dict[str, int] = {}
    for t in d["word_trials"]:
        listener = build_listener(conf, profile, app.store, app.catalog)
        be._heard(listener, t["earlier"], t["before"])
        start = listener.now_s
        found = [(norm(n), s - start) for n, s in be._heard(listener, t["mic"], t["reply"])]
        hits[t["name"]] = hits.get(t["name"], 0) + be._found(found, t["name"], t["word_at_s"])
    listener = build_listener(conf, profile, app.store, app.catalog)
    selfs: dict[str, int] = {}
    for reply, mic in d["own"]:
        for n, _ in be._heard(listener, mic, reply):
            selfs[n] = selfs.get(n, 0) + 1
    print(ee.PLAYBACK_SUPPRESSION, cache.split("/")[-1], hits, "self", selfs, flush=True)
