"""How far under the word the canceller's residue is in bench echo's cached word trials, just
before the word and under it, against the ideal canceller's 30 dB; and whether each stop head
heard the word through the real canceller (a fresh listener, as echo_side.py runs it).

usage: residue_levels.py CACHE.pkl WORD HEAD.onnx@THR ...   (PYTHONPATH=benchmarks/session-45)
"""
import pickle
import sys

import numpy as np
from head_scores import audio_trace, fire_times, frontend, load_head

from edgeai.synthetic.echo import through_canceller

data = pickle.load(open(sys.argv[1], "rb"))
word = sys.argv[2]
fe = frontend()
heads = [(spec, load_head(spec.split("@")[0], word), float(spec.split("@")[1])) for spec in sys.argv[3:]]


def db(audio):
    audio = audio.astype(np.float64) / 32768
    return 20 * np.log10(np.sqrt(np.mean(audio**2)) + 1e-12)


rows = []
for trial in (t for t in data["word_trials"] if t["name"] == word):
    heard = through_canceller(trial["reply"], trial["mic"], (trial["before"], trial["earlier"]))
    at = int(trial["word_at_s"] * 16000)
    ideal_residue = trial["ideal"].astype(np.float64)  # the word plus the echo 30 dB down
    if at < 12000:  # a word too early to have a second of reply before it
        continue
    before = heard[at - 12000 : at - 1600]
    word_part = trial["ideal"][at : at + 6400]
    hits = []
    for spec, head, threshold in heads:
        times = fire_times(audio_trace(fe, head, heard), threshold)
        hits.append(any(trial["word_at_s"] - 0.5 <= t <= trial["word_at_s"] + 1.5 for t in times))
    rows.append((db(word_part) - db(before), db(word_part) - db(ideal_residue[at - 12000 : at - 1600]), hits))
    print(f"residue {rows[-1][0]:5.1f} dB under the word (ideal {rows[-1][1]:5.1f})  heard: {hits}")
under = np.array([r[0] for r in rows])
print(f"median {np.median(under):.1f} dB under, range {under.min():.1f}..{under.max():.1f}")
for i, (spec, _, _) in enumerate(heads):
    print(spec, sum(r[2][i] for r in rows), "of", len(rows))
