"""Per trial: the bundled head's best score on the word, alone / ideal canceller, by talker."""
import pickle, sys, numpy as np
from edgeai.runtime.context import AppContext
from edgeai.ears.wake.frontend import WakeFrontend, BLOCK_SAMPLES
from edgeai.ears.wake.heads import WakeHead, WakeWordSpec
from edgeai.bench.echo import TALKERS
from pathlib import Path
data = pickle.load(open(sys.argv[1], "rb"))
head_path = sys.argv[2] if len(sys.argv) > 2 else "/work/main/wakewords/hey_jarvis.onnx"
word = sys.argv[3] if len(sys.argv) > 3 else "hey_jarvis"
app = AppContext(None)
fe = WakeFrontend(app.store.require(app.catalog.get("openwakeword-frontend")))
head = WakeHead(WakeWordSpec(word, Path(head_path), 0.5, 2.0))
def best(audio, at):
    s = fe.stream(); out = []
    for i in range(len(audio) // BLOCK_SAMPLES):
        e = s.push(audio[i*BLOCK_SAMPLES:(i+1)*BLOCK_SAMPLES]); t = (i+1)*0.08
        if at <= t <= at + 1.5: out.append(head.score(e))
    return max(out) if out else 0.0
trials = [t for t in data["word_trials"] if t["name"] == word]
for k, t in enumerate(trials):
    print(k, TALKERS[k % 3].voice, f"ideal {best(t['ideal'], t['word_at_s']):.3f}", flush=True)
