import sys, pickle, numpy as np, onnxruntime as ort
from edgeai.export.wakeword.trainer import count_firings
from edgeai.runtime.context import AppContext
from edgeai.ears.wake.frontend import WakeFrontend
f = pickle.load(open(sys.argv[1], "rb"))["mbrola2/negatives"]
app = AppContext(None)
sil = WakeFrontend(app.store.require(app.catalog.get("openwakeword-frontend"))).silence_embedding.astype(np.float32)
for arg in sys.argv[2:]:
    p, thr = arg.split("@"); s = ort.InferenceSession(p, providers=["CPUExecutionProvider"]); n = s.get_inputs()[0].name
    pad = np.concatenate([np.repeat(sil, 16, 0), f])
    tr = np.array([float(np.asarray(s.run(None, {n: pad[i+1:i+17][None]})[0]).reshape(-1)[0]) for i in range(len(f))])
    print(p.split("/")[-1], thr, "hours %.2f" % (len(f) * 0.08 / 3600), "false accepts", count_firings(tr, float(thr)), "| at 0.385/0.6/0.7:", [count_firings(tr, t) for t in (0.385, 0.6, 0.7)])
