"""The second look's tuning sets, audio pickled: what chooses its views and threshold, with
MBROLA (held out) nowhere in it. In-family: the trainer's dev seed (1001), whose ordinary speech
is where the head's own threshold was chosen; SVOX Pico and Kokoro (families the bundled head
never trained on) at ordinary and fast rates and right after other speech (seeds 3001, 3002).

usage: tuning_cache.py N_POS NEG_HOURS OUT.pkl"""
import dataclasses
import pickle
import sys
import time

import numpy as np

from edgeai.runtime.context import AppContext
from edgeai.synthetic import wake_data as wd
from edgeai.synthetic.kokoro import KOKORO_MODEL, kokoro_voices
from edgeai.synthetic.speech import PicoVoice, Synthesizer

n, hours, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
PHRASE = "hey jarvis"
app = AppContext(None)
synth = Synthesizer(None, app.store.require(app.catalog.get(KOKORO_MODEL)))
t0 = time.time()
dev = wd.dev_set(synth, PHRASE, n, hours * 3600, 1001, near_miss_count=1)
cache = {"in-family": {"ordinary": dev.positives, "after speech": dev.after_speech,
                       "negatives": dev.ordinary}}
print("in-family", round(time.time() - t0), "s", flush=True)
VOICES = {"pico": (PicoVoice("en-US", 100, 100), PicoVoice("en-GB", 100, 100)),
          "kokoro": tuple(kokoro_voices())}
for i, (family, voices) in enumerate(VOICES.items()):
    rng = np.random.default_rng(3001 + i)
    split = dataclasses.replace(wd.dev_split(rng), voices=voices)
    babble = wd.babble_track(synth, split, 60.0, rng, PHRASE)
    count = n if family == "pico" else n // 2
    cache[family] = {
        "ordinary": wd.positives(synth, PHRASE, split, count, rng, babble),
        "fast": wd.positives(synth, PHRASE, split, count // 2, rng, babble, fast=1.0),
        "after speech": wd.positives(synth, PHRASE, split, count // 3, rng, babble, after_speech=1.0),
    }
    print(family, round(time.time() - t0), "s", flush=True)
pickle.dump(cache, open(out, "wb"))
