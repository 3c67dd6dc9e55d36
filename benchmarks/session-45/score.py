"""Score heads (and means of heads) on sets.pkl: false rejects at equal false accepts.

usage: score.py SETS.pkl OUT.json NAME=HEAD.onnx[+HEAD2.onnx...][@THR] ...
A name with several heads joined by + is the mean of their scores; joined by | with each one's
threshold (A.onnx:0.62|B.onnx:0.68), their calibrated maximum (session 48): each score's logit
less its threshold's, the largest, through a sigmoid (0.5: either head at its own threshold). Thresholds: each head's
@THR (its manifest's), and the lowest at which the negatives named by $FAKEY (default the
in-family ones) give <= K false accepts, K in $FAS (default 1,2,4,8).
"""
import json
import os
import pickle
import sys

import numpy as np

from head_scores import BLOCK_S, fire_times, frontend, session, trace

EARLY, LATE = 0.5, 1.0
sets = pickle.load(open(sys.argv[1], "rb"))
out = sys.argv[2]
silence = frontend().silence_embedding
fa_key = os.environ.get("FAKEY", "espeak/negatives")
allowed = [int(k) for k in os.environ.get("FAS", "1,2,4,8").split(",")]  # FAS=5,10 for stop


def missed(traces, ends, threshold):
    return sum(
        not any(end / 16000 - EARLY <= t <= end / 16000 + LATE for t in fire_times(tr, threshold))
        for tr, end in zip(traces, ends)
    )


results = {}
for arg in sys.argv[3:]:
    name, spec = arg.split("=", 1)
    spec, _, thr = spec.partition("@")
    if "|" in spec:
        members = [m.rsplit(":", 1) for m in spec.split("|")]
        heads = [session(p) for p, _ in members]
        shifts = [np.log(float(t) / (1 - float(t))) for _, t in members]

        def mean_trace(features):
            logits = [
                np.log(np.clip(s, 1e-7, 1 - 1e-7) / np.clip(1 - s, 1e-7, 1)) - shift
                for s, shift in ((trace(h, features, silence), sh) for h, sh in zip(heads, shifts))
            ]
            return 1 / (1 + np.exp(-np.max(logits, axis=0)))
    else:
        heads = [session(p) for p in spec.split("+")]

        def mean_trace(features):
            return np.mean([trace(h, features, silence) for h in heads], axis=0)

    tr = {}
    for key, val in sets.items():
        if isinstance(val, list):
            tr[key] = ([mean_trace(f) for f, _ in val], [e for _, e in val])
        else:
            tr[key] = mean_trace(val)
    neg_h = {k: len(v) * BLOCK_S / 3600 for k, v in sets.items() if not isinstance(v, list)}
    grid = np.unique(np.concatenate([np.round(np.arange(0.05, 0.995, 0.005), 3), [float(thr)] if thr else []]))
    fa = {k: np.array([len(fire_times(tr[k], t)) for t in grid]) for k in neg_h}
    chosen = {"manifest": float(thr)} if thr else {}
    for k_fa in allowed:
        fits = np.flatnonzero(fa[fa_key] <= k_fa)
        if len(fits):
            chosen[f"fa<={k_fa}"] = float(grid[fits[0]])
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
