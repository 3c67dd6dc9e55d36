"""bench wake's dev sets, made once and pickled, so second-stage variants are scored on the
same audio: both families' positives, phrases after speech and ordinary speech (seed 2026,
the functions `edgeai bench wake` uses), and each family's CONDITIONS clips (seed 2027).

usage: dev_cache.py N_POS NEG_MINUTES CONDITION_EACH OUT.pkl"""
import pickle
import sys
import time

import numpy as np

from edgeai.bench.wake import BABBLE_S, CONDITION_SEED_OFFSET, FAMILIES
from edgeai.synthetic.held_out_voices import CONDITIONS, condition_positives
from edgeai.synthetic.speech import Synthesizer
from edgeai.synthetic.wake_data import babble_track, dev_set

n, minutes, each, out = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
SEED = 2026
synth = Synthesizer(None)
cache = {}
for family, split in FAMILIES.items():
    t0 = time.time()
    dev = dev_set(synth, "hey jarvis", n, minutes * 60, SEED, near_miss_count=1, family=split)
    rng = np.random.default_rng(SEED + CONDITION_SEED_OFFSET)
    cond_split = FAMILIES[family](rng)
    babble = babble_track(synth, cond_split, BABBLE_S, rng, "hey jarvis")
    conditions = {c.name: condition_positives(synth, "hey jarvis", cond_split, c, each, rng, babble)
                  for c in CONDITIONS}
    cache[family] = {"positives": dev.positives, "after_speech": dev.after_speech,
                     "ordinary": dev.ordinary, "conditions": conditions}
    print(family, round(time.time() - t0), "s", flush=True)
pickle.dump(cache, open(out, "wb"))
