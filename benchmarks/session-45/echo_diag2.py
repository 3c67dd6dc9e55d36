import pickle, sys, numpy as np
from edgeai.runtime.context import AppContext
from edgeai.ears.wake.frontend import WakeFrontend, BLOCK_SAMPLES
from edgeai.ears.wake.heads import WakeHead, WakeWordSpec
from pathlib import Path
data = pickle.load(open("echo27.pkl", "rb"))
app = AppContext(None)
fe = WakeFrontend(app.store.require(app.catalog.get("openwakeword-frontend")))
head = WakeHead(WakeWordSpec("hey_jarvis", Path("/work/main/wakewords/hey_jarvis.onnx"), 0.5, 2.0))
def trace(audio):
    s = fe.stream(); return np.array([head.score(s.push(audio[i*BLOCK_SAMPLES:(i+1)*BLOCK_SAMPLES])) for i in range(len(audio)//BLOCK_SAMPLES)])
trials = [t for t in data["word_trials"] if t["name"] == "hey_jarvis"]
for k in map(int, sys.argv[1:]):
    t = trials[k]; at = t["word_at_s"]
    mic = t["mic"].astype(np.float64); ideal = t["ideal"].astype(np.float64)
    # talker alone = ideal - rest, rest = (mic - alone)*g  => alone = (ideal - g*mic)/(1-g)
    g = 10 ** (-30 / 20)
    alone = (ideal - g * mic) / (1 - g)
    residue = mic - alone
    i0 = int(at * 16000)
    def best(a):
        tr = trace(np.rint(np.clip(a, -32768, 32767)).astype(np.int16)); lo = int(at / 0.08); return tr[lo: lo + 19].max()
    before = residue.copy(); before[i0:] = 0
    after = residue.copy(); after[:i0] = 0
    print(k, "alone %.3f" % best(alone), " ".join(f"res{db}:{best(alone + residue * 10 ** (db / 20)):.3f}" for db in (-20, -30, -40, -50)),
          "before-only(-30) %.3f" % best(alone + before * g), "after-only(-30) %.3f" % best(alone + after * g),
          "rms alone/res dB %.1f" % (20*np.log10(np.sqrt(np.mean(alone[i0:i0+8000]**2))/np.sqrt(np.mean(residue[i0:i0+8000]**2)))), flush=True)
