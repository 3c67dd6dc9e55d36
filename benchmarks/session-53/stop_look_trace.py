"""Every second look the stop word would take during playback, traced through the runtime's
listener on bench echo's cached word trials and own replies: the stop head is given a look it
can never pass (threshold 0.999; CONFIG points at such a copy of the bundled head), and each
look's audio is scored at every lengthening the trainer tries. One JSON row per look (cache,
trial or own reply, stream time, scores) and per detection the listener reports (the head
alone, through all its gates). stop_look_read.py counts words heard and self-stops per rule.

usage: stop_look_trace.py CONFIG.yaml OUT.jsonl CACHE.pkl ..."""
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

from edgeai.bench import echo as be
from edgeai.ears.listener import build_listener
from edgeai.ears.wake import second_look as sl
from edgeai.export.wakeword.look_choice import FACTORS
from edgeai.runtime.context import AppContext

app = AppContext(Path(sys.argv[1]))
profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
out = open(sys.argv[2], "w")
now: dict = {}
"""What is being heard: `tag` (the row's fields) and the `listener` whose stream time a look has."""
original = sl.SecondLook._score


def traced(self, audio):
    """Every lengthening's score for a stop look (`audio` is the look's own, at spec.lengthen)."""
    if self._head.spec.name != "stop":
        return original(self, audio)
    raw = np.concatenate(self._audio)  # what the look hears, before its own lengthening
    scores = {str(f): round(original(self, audio if f == self.spec.lengthen else sl.lengthen(raw, f)), 4)
              for f in FACTORS}
    out.write(json.dumps(dict(now["tag"], kind_row="look", at_s=round(now["listener"].now_s, 3), scores=scores)) + "\n")
    return 0.0


sl.SecondLook._score = traced


def heard(listener, mic, played, tag):
    now.update(tag=tag, listener=listener)
    return be._heard(listener, mic, played)


for cache in sys.argv[3:]:
    d = pickle.load(open(cache, "rb"))
    for i, t in enumerate(d.get("word_trials", [])):
        listener = build_listener(conf, profile, app.store, app.catalog)
        heard(listener, t["earlier"], t["before"], dict(cache=cache, trial=i, word=t["name"], part="earlier"))
        start = listener.now_s
        found = heard(listener, t["mic"], t["reply"], dict(cache=cache, trial=i, word=t["name"], part="word",
                                                           start_s=start, word_at_s=t["word_at_s"]))
        out.write(json.dumps(dict(kind_row="trial", cache=cache, trial=i, word=t["name"], start_s=start,
                                  word_at_s=t["word_at_s"], found=found)) + "\n")
    if d.get("own"):
        listener = build_listener(conf, profile, app.store, app.catalog)
        for j, (reply, mic) in enumerate(d["own"]):
            start = listener.now_s
            found = heard(listener, mic, reply, dict(cache=cache, reply=j, part="own", start_s=start))
            out.write(json.dumps(dict(kind_row="own", cache=cache, reply=j, start_s=start, found=found)) + "\n")
    out.flush()
    print(cache, "done", time.strftime("%H:%M:%S"), flush=True)
