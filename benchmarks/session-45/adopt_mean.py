"""Choose the mean head's threshold by the trainer's rule on the trainer's dev set (seed 1001:
300 positives, 8 h of negatives; `devfeat.py`), measure it there, write its manifest.

usage: adopt_mean.py DEV.pkl MEAN.onnx OUT.json MEMBER.json ...
"""
import json
import pickle
import sys
import time

import numpy as np

from edgeai.ears.wake.evaluate import EARLY_S, LATE_S, REFRACTORY_S
from edgeai.export.wakeword.trainer import count_firings, threshold_for_stream
from head_scores import BLOCK_S, fire_times, frontend, session, trace

dev_path, mean_path, out, members = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
sets = pickle.load(open(dev_path, "rb"))
silence = frontend().silence_embedding
head = session(mean_path)
neg = trace(head, sets["dev1001/negatives"], silence)
hours = len(neg) * BLOCK_S / 3600
threshold = threshold_for_stream(neg, hours, 0.5)


def delays(items):
    """Delay after the phrase's end of each positive heard in time (evaluate.py's rule)."""
    out = []
    for features, end in items:
        e = end / 16000
        hits = [t for t in fire_times(trace(head, features, silence), threshold)
                if e - EARLY_S <= t <= e + LATE_S]
        if hits:
            out.append(max(0.0, hits[0] - e) * 1000)
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
