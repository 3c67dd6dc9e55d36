"""The held-out (MBROLA) talkers' words during playback through an ideal canceller (30 dB of the
echo taken evenly, the talker untouched): what the heads hear at best, beside what the runtime
canceller gives (or_probe.py).

usage: held_out_ideal.py CONFIG.yaml CACHE.pkl ...   (held_out_cache.py's caches)"""
import pickle
import sys
from pathlib import Path

from edgeai.bench import echo as be
from edgeai.ears.listener import build_listener
from edgeai.runtime.context import AppContext

app = AppContext(Path(sys.argv[1]))
profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": False})})
for cache in sys.argv[2:]:
    heard: dict[str, int] = {}
    for t in pickle.load(open(cache, "rb"))["word_trials"]:
        listener = build_listener(conf, profile, app.store, app.catalog)
        heard[t["name"]] = heard.get(t["name"], 0) + be._heard_by(listener, t["ideal"], t["name"], t["word_at_s"])
    print(cache, "ideal canceller:", heard, "of 24 each", flush=True)
