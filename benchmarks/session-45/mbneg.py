"""More held-out speech without the phrase: MBROLA voices, dev sentences and noises, another
draw (seed 2027), as embeddings; then each head's false accepts at its threshold."""
import sys, pickle, numpy as np
from edgeai.runtime.context import AppContext
from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.synthetic.speech import Synthesizer
from edgeai.synthetic import wake_data as wd
from edgeai.synthetic.held_out_voices import held_out_split
app = AppContext(None)
fe = WakeFrontend(app.store.require(app.catalog.get("openwakeword-frontend")))
dev = wd.dev_set(Synthesizer(None), "hey jarvis", 20, float(sys.argv[2]) * 60, int(sys.argv[3]), family=held_out_split)
pickle.dump({"mbrola2/negatives": fe.features(dev.ordinary).astype(np.float32)}, open(sys.argv[1], "wb"))
print("saved")
