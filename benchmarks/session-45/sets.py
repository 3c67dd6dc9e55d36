"""Build the side-by-side scoring sets once; store each clip's wake embeddings.

usage: sets.py OUT.pkl ORDINARY FAST NEG_MIN_IN NEG_MIN_HELD COND
Families: espeak-ng dev voices (in-family), SVOX Pico, Kokoro (neither in the bundled head's
training), MBROLA (held out: read, not chosen on). bench wake's seed 2026 dev draws for the
in-family and held-out positives and negatives; Pico / Kokoro / fast sets from seed 3001+.
"""
import os, sys, pickle, dataclasses, time
import numpy as np
from edgeai.runtime.context import AppContext
from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.synthetic.speech import Synthesizer, PicoVoice
from edgeai.synthetic.kokoro import kokoro_voices, KOKORO_MODEL
from edgeai.synthetic import wake_data as wd
from edgeai.synthetic.held_out_voices import CONDITIONS, condition_positives, held_out_split, mbrola_voices
from edgeai.bench.wake import FAMILIES, BABBLE_S, CONDITION_SEED_OFFSET

out, ordinary, fast, neg_in, neg_held, cond = sys.argv[1], *map(int, sys.argv[2:7])
app = AppContext(None)
frontend = WakeFrontend(app.store.require(app.catalog.get("openwakeword-frontend")))
kokoro = app.store.require(app.catalog.get(KOKORO_MODEL))
synth = Synthesizer(None, kokoro)
phrase = os.environ.get("PHRASE", "hey jarvis")  # PHRASE=stop: the stop word's sets
SEED = 2026

def feats(clip):
    return frontend.features(clip).astype(np.float32)

def pos_feats(ps):
    return [(feats(p.clip), p.end_sample) for p in ps]

sets = {}
t0 = time.time()
# bench wake's dev sets (same seed and functions): in-family and held-out
for family, split_fn, minutes in (("espeak", wd.dev_split, neg_in), ("mbrola", held_out_split, neg_held)):
    dev = wd.dev_set(synth, phrase, ordinary, minutes * 60, SEED, family=split_fn)
    sets[f"{family}/ordinary"] = pos_feats(dev.positives)
    sets[f"{family}/after"] = pos_feats(dev.after_speech)
    sets[f"{family}/negatives"] = feats(dev.ordinary)
    print(family, "dev done", time.time() - t0, flush=True)
# bench wake's conditions
for family in FAMILIES:
    rng = np.random.default_rng(SEED + CONDITION_SEED_OFFSET)
    split = FAMILIES[family](rng)
    babble = wd.babble_track(synth, split, BABBLE_S, rng, phrase)
    name = {"in-family": "espeak", "held-out": "mbrola"}[family]
    for c in CONDITIONS:
        sets[f"{name}/cond:{c.name}"] = pos_feats(condition_positives(synth, phrase, split, c, cond, rng, babble))
print("conditions done", time.time() - t0, flush=True)
# other synthesizers and fast rates, on the dev split's sentences and noises
def family_split(rng, which):
    dev = wd.dev_split(rng)
    if which == "espeak":
        return dev
    if which == "mbrola":
        return dataclasses.replace(dev, voices=mbrola_voices())
    if which == "pico":
        return dataclasses.replace(dev, voices=(PicoVoice("en-US", 100, 100), PicoVoice("en-GB", 100, 100)))
    if which == "kokoro":
        return dataclasses.replace(dev, voices=tuple(kokoro_voices()))
for i, which in enumerate(("pico", "kokoro", "espeak", "mbrola")):
    rng = np.random.default_rng(3001 + i)
    split = family_split(rng, which)
    babble = wd.babble_track(synth, split, 60.0, rng, phrase)
    if which in ("pico", "kokoro"):
        sets[f"{which}/ordinary"] = pos_feats(wd.positives(synth, phrase, split, ordinary, rng, babble))
    sets[f"{which}/fast"] = pos_feats(wd.positives(synth, phrase, split, fast, rng, babble, fast=1.0))
    print(which, "done", time.time() - t0, flush=True)
with open(out, "wb") as f:
    pickle.dump(sets, f)
print("saved", out, {k: (len(v) if isinstance(v, list) else v.shape) for k, v in sets.items()})
