"""Score heads (and means of heads) on sets.pkl: false rejects at equal false accepts.

usage: score.py SETS.pkl OUT.json NAME=HEAD.onnx[+HEAD2.onnx...][@THR] ...
A name with several heads joined by + is the mean of their scores. Thresholds: each head's
@THR (its manifest's), and the lowest at which in-family negatives give <= K false accepts.
"""
import sys, json, pickle
import numpy as np
import onnxruntime as ort

BLOCK_S, EARLY, LATE, REFR = 0.08, 0.5, 1.0, 2.0
sets = pickle.load(open(sys.argv[1], "rb"))
out = sys.argv[2]

def trace(sess, f):
    name = sess.get_inputs()[0].name
    w = sess.get_inputs()[0].shape[1]
    pad = np.concatenate([np.repeat(f[:1] * 0 + SILENCE, w, 0), f])  # stream starts on silence
    return np.array([float(np.asarray(sess.run(None, {name: pad[i + 1 : i + 1 + w][None]})[0]).reshape(-1)[0]) for i in range(len(f))], np.float32)

def fires(tr, thr):
    times, quiet = [], 0.0
    for i in np.flatnonzero(tr >= thr):
        t = (i + 1) * BLOCK_S
        if t >= quiet:
            times.append(t); quiet = t + REFR
    return times

def missed(traces, ends, thr):
    n = 0
    for tr, end in zip(traces, ends):
        e = end / 16000
        if not any(e - EARLY <= t <= e + LATE for t in fires(tr, thr)):
            n += 1
    return n

import edgeai.ears.wake.frontend as fe
from edgeai.runtime.context import AppContext
app = AppContext(None)
frontend = fe.WakeFrontend(app.store.require(app.catalog.get("openwakeword-frontend")))
SILENCE = frontend.silence_embedding.astype(np.float32)

results = {}
for arg in sys.argv[3:]:
    name, spec = arg.split("=", 1)
    spec, _, thr = spec.partition("@")
    sessions = []
    for p in spec.split("+"):
        o = ort.SessionOptions(); o.intra_op_num_threads = 1
        sessions.append(ort.InferenceSession(p, o, providers=["CPUExecutionProvider"]))
    def mean_trace(f):
        return np.mean([trace(s, f) for s in sessions], axis=0)
    tr = {}
    for key, val in sets.items():
        if isinstance(val, list):
            tr[key] = ([mean_trace(f) for f, _ in val], [e for _, e in val])
        else:
            tr[key] = mean_trace(val)
    neg_h = {k: len(v) * BLOCK_S / 3600 for k, v in sets.items() if not isinstance(v, list)}
    grid = np.unique(np.concatenate([np.round(np.arange(0.05, 0.995, 0.005), 3), [float(thr)] if thr else []]))
    fa = {k: np.array([len(fires(tr[k], t)) for t in grid]) for k in neg_h}
    chosen = {"manifest": float(thr)} if thr else {}
    for k_fa in (1, 2, 4, 8):
        ok = np.flatnonzero(fa["espeak/negatives"] <= k_fa)
        chosen[f"fa<={k_fa}"] = float(grid[ok[0]])
    rows = {}
    for label, t in chosen.items():
        i = int(np.argmin(abs(grid - t)))
        row = {"threshold": t, **{f"FA {k} ({neg_h[k]:.2f} h)": int(fa[k][i]) for k in neg_h}}
        for key, v in tr.items():
            if isinstance(v, tuple):
                row[key] = f"{missed(v[0], v[1], t)}/{len(v[0])}"
        rows[label] = row
    results[name] = rows
    print(f"== {name}")
    keys = list(next(iter(rows.values())).keys())
    print("  " + " | ".join(keys))
    for label, row in rows.items():
        print(f"  {label}: " + " | ".join(str(row[k]) for k in keys))
json.dump(results, open(out, "w"), indent=1)
