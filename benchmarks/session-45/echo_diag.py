"""Per trial: a head's best score on the word through the ideal canceller, by talker.
usage: echo_diag.py CACHE.pkl [HEAD.onnx] [WORD]   (run from the repository root; default: the
hey jarvis head bundled until 2026-12-06, kept in tests/data)"""
import pickle
import sys

from edgeai.bench.echo import TALKERS
from head_scores import BLOCK_S, audio_trace, frontend, load_head

data = pickle.load(open(sys.argv[1], "rb"))
word = sys.argv[3] if len(sys.argv) > 3 else "hey_jarvis"
head = load_head(sys.argv[2] if len(sys.argv) > 2 else "tests/data/hey_jarvis-2026-12-01.onnx", word)
fe = frontend()
trials = [t for t in data["word_trials"] if t["name"] == word]
for k, t in enumerate(trials):
    tr, at = audio_trace(fe, head, t["ideal"]), t["word_at_s"]
    best = max(s for i, s in enumerate(tr) if at <= (i + 1) * BLOCK_S <= at + 1.5)
    print(k, TALKERS[k % 3].voice, f"ideal {best:.3f}", flush=True)
