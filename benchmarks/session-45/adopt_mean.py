"""Choose the mean head's threshold by the trainer's rule on the trainer's dev set (seed 1001:
300 positives, 8 h of negatives; `devfeat.py`), measure it there, write its manifest.

usage: adopt_mean.py DEV.pkl MEAN.onnx OUT.json MEMBER.json ...
"""
import sys, json, math, time, pickle
import numpy as np
import onnxruntime as ort
from edgeai.export.wakeword.trainer import count_firings
from edgeai.ears.wake.evaluate import EARLY_S, LATE_S, REFRACTORY_S
from edgeai.runtime.context import AppContext
from edgeai.ears.wake.frontend import WakeFrontend, BLOCK_SAMPLES

dev_path, mean_path, out, members = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
sets = pickle.load(open(dev_path, "rb"))
app = AppContext(None)
frontend = WakeFrontend(app.store.require(app.catalog.get("openwakeword-frontend")))
silence = frontend.silence_embedding.astype(np.float32)
o = ort.SessionOptions(); o.intra_op_num_threads = 1
sess = ort.InferenceSession(mean_path, o, providers=["CPUExecutionProvider"])
name, w = sess.get_inputs()[0].name, sess.get_inputs()[0].shape[1]
BLOCK_S = BLOCK_SAMPLES / 16000

def trace(f):
    pad = np.concatenate([np.repeat(silence, w, 0), f])
    return np.array([float(np.asarray(sess.run(None, {name: pad[i + 1 : i + 1 + w][None]})[0]).reshape(-1)[0]) for i in range(len(f))])

neg = trace(sets["dev1001/negatives"])
hours = len(neg) * BLOCK_S / 3600
allowed = int(0.5 * hours)
low, high = 0.2, 0.999
if count_firings(neg, low) > allowed:
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (low, mid) if count_firings(neg, mid) <= allowed else (mid, high)
    threshold = math.ceil(high * 10_000) / 10_000
else:
    threshold = low

def delays(items):
    out = []
    for f, end in items:
        tr, e, quiet, hit = trace(f), end / 16000, 0.0, None
        for i in np.flatnonzero(tr >= threshold):
            t = (i + 1) * BLOCK_S
            if t < quiet:
                continue
            quiet = t + REFRACTORY_S
            if e - EARLY_S <= t <= e + LATE_S:
                hit = max(0.0, t - e) * 1000; break
        if hit is not None:
            out.append(hit)
    return out

pos, after = sets["dev1001/positives"], sets["dev1001/after"]
d, a = delays(pos), delays(after)
fa = count_firings(neg, threshold)
mans = [json.load(open(m)) for m in members]
first = mans[0]
manifest = {
    "name": first["name"], "phrase": first["phrase"], "kind": first["kind"], "format": "onnx",
    "precision": "fp32", "input": first["input"], "frontend": first["frontend"],
    "threshold": threshold,
    "threshold_rule": "at most 0.5 false accepts per hour on the dev set",
    "refractory_s": REFRACTORY_S,
    "mean_of": [{"recipe": m["recipe"], "threshold": m["threshold"], "created": m["created"],
                 "training": m["training"], "dev": {k: m["dev"][k] for k in ("false_reject_rate", "false_accepts_per_hour")}}
                for m in mans],
    "dev": {
        "seed": first["recipe"]["seed"] + 1000,
        "positives": len(pos), "false_rejects": len(pos) - len(d),
        "negative_hours": hours, "false_accepts": fa,
        "delay_ms_p50": float(np.percentile(d, 50)), "delay_ms_p95": float(np.percentile(d, 95)),
        "after_speech_positives": len(after), "after_speech_false_rejects": len(after) - len(a),
        "false_reject_rate": round((len(pos) - len(d)) / len(pos), 4),
        "false_accepts_per_hour": round(fa / hours, 3),
        "after_speech_false_reject_rate": round((len(after) - len(a)) / len(after), 4),
        "kept_apart": "dev voices, variants, sentences, near misses and noises differ",
    },
    "licence": "Apache-2.0 (trained here from synthetic speech)",
    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
}
json.dump(manifest, open(out, "w"), indent=2); open(out, "a").write("\n")
print(json.dumps({"threshold": threshold, **manifest["dev"]}, indent=1))
