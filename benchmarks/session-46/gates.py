"""Which gate of the listener let each "stop" during playback through or not: per cached word
trial of bench echo (echo_side.py's cache), whether the word was heard, and the playback's
score of every own-word check made (OwnWords.said: the same head run on what edgeai played);
then the same over the cache's own replies.

usage: gates.py CACHE.pkl CONFIG.yaml   (a config naming the stop head, as echo_side.py's)
"""
import sys, pickle, collections
from pathlib import Path
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.ears import echo as ee
from edgeai.ears.listener import build_listener
rec = []
orig = ee.OwnWords.said
def said(self, name):
    r = orig(self, name); rec.append((name, round(self.last_score, 4))); return r
ee.OwnWords.said = said
data = pickle.load(open(sys.argv[1], "rb"))
app = AppContext(Path(sys.argv[2])); profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
for t in data["word_trials"]:
    if t["name"] != "stop": continue
    rec.clear()
    listener = build_listener(conf, profile, app.store, app.catalog)
    be._heard(listener, t["earlier"], t["before"]); start = listener.now_s
    found = [(n, s - start) for n, s in be._heard(listener, t["mic"], t["reply"])]
    print("trial", be._found(found, "stop", t["word_at_s"]), [r for r in rec if r[0] == "stop"])
listener = build_listener(conf, profile, app.store, app.catalog)
rec.clear(); selfs = 0
for reply, mic in data["own"]:
    selfs += sum(n == "stop" for n, _ in be._heard(listener, mic, reply))
print("own replies: stop self-stops", selfs, "checks", [r for r in rec if r[0] == "stop"])
