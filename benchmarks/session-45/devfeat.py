"""The trainer's dev set for hey jarvis (seed 1001: 300 positives, 8 h of negatives), as
embeddings in sets.py's layout, so score.py can choose thresholds by the trainer's rule."""
import sys, pickle, numpy as np
from edgeai.runtime.context import AppContext
from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.synthetic.speech import Synthesizer
from edgeai.synthetic import wake_data as wd
app = AppContext(None)
frontend = WakeFrontend(app.store.require(app.catalog.get("openwakeword-frontend")))
dev = wd.dev_set(Synthesizer(None), "hey jarvis", 300, 480 * 60, seed=1001)
f = lambda c: frontend.features(c).astype(np.float32)
sets = {"dev1001/positives": [(f(p.clip), p.end_sample) for p in dev.positives],
        "dev1001/after": [(f(p.clip), p.end_sample) for p in dev.after_speech],
        "dev1001/negatives": f(dev.ordinary)}
pickle.dump(sets, open(sys.argv[1], "wb"))
print("saved", {k: (len(v) if isinstance(v, list) else v.shape) for k, v in sets.items()})
