"""echo_diag2.py's word with white noise floors of -60 to -35 dBFS added: alone, through the
ideal canceller, and with the residue 21 dB down (about what the runtime's canceller leaves).
usage: echo_diag3.py CACHE.pkl HEAD.onnx TRIAL ..."""
import pickle
import sys

import numpy as np

from echo_diag2 import best_on_word, parts
from head_scores import frontend, load_head

data = pickle.load(open(sys.argv[1], "rb"))
fe, head = frontend(), load_head(sys.argv[2])
trials = [t for t in data["word_trials"] if t["name"] == "hey_jarvis"]
rng = np.random.default_rng(1)
for k in map(int, sys.argv[3:]):
    t, at = trials[k], trials[k]["word_at_s"]
    alone, residue = parts(t)
    ideal = t["ideal"].astype(np.float64)
    best = lambda audio: best_on_word(fe, head, audio, at)  # noqa: E731
    row = []
    for floor in (-60, -50, -45, -40, -35):
        n = rng.standard_normal(len(ideal)) * 32768 * 10 ** (floor / 20)
        row.append(f"floor{floor}: alone {best(alone + n):.2f} ideal {best(ideal + n):.2f} "
                   f"res-15 {best(alone + residue * 10 ** (-21 / 20) + n):.2f}")
    print(k, " | ".join(row), flush=True)
