"""Cached word trials through the runtime listener, with the own-word check's score and the
gates' log lines.

usage: one_trial.py CONFIG.yaml CACHE.pkl TRIAL ..."""
import sys, pickle, logging
from pathlib import Path
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.ears.listener import build_listener
logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
app = AppContext(Path(sys.argv[1])); profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
d = pickle.load(open(sys.argv[2], "rb"))
for i in map(int, sys.argv[3:]):
    t = d["word_trials"][i]
    listener = build_listener(conf, profile, app.store, app.catalog)
    be._heard(listener, t["earlier"], t["before"])
    start = listener.now_s
    said = listener.own_words.said
    def rec(name):
        r = said(name); print("  own check", name, round(listener.own_words.last_score, 3), r, "at", round(listener.now_s - start - t["word_at_s"], 2)); return r
    listener.own_words.said = rec
    print(i, t["name"], [(n, round(s - start - t["word_at_s"], 2)) for n, s in be._heard(listener, t["mic"], t["reply"])])
