"""Reads look_variants.py's output: per variant and threshold, Pico's and Kokoro's misses (the
tuning families), in-family misses, false accepts in the in-family hours, and the delay after
the phrase's end (p50 / p95 over the Pico and Kokoro phrases heard), with the head alone first.

usage: look_variants_read.py LOOKS.jsonl SETS.pkl"""
import json
import pickle
import sys
from collections import defaultdict

import numpy as np

sys.path.insert(0, "benchmarks/session-51")
from cached_sets import flat  # noqa: E402

from edgeai.ears.wake.evaluate import EARLY_S, LATE_S, REFRACTORY_S  # noqa: E402

rows = [json.loads(line) for line in open(sys.argv[1])]
sets = pickle.load(open(sys.argv[2], "rb"))
ends = {(fam, group, i): p.end_sample / 16000 for fam, s in sets.items()
        for group, clips in flat(s).items() if not isinstance(clips, np.ndarray)
        for i, p in enumerate(clips)}
variants = list(dict.fromkeys(x["variant"] for r in rows for x in r["looks"] if "variant" in x))


def counts(x: dict, variant: str | None, threshold: float) -> bool:
    return x["fired"] or (x.get("variant") == variant and x["score"] >= threshold)


def heard_at(r: dict, variant: str | None, threshold: float) -> float | None:
    end = ends[(r["family"], r["group"], r["idx"])]
    hits = [x["at"] for x in r["looks"] if end - EARLY_S <= x["at"] <= end + LATE_S and counts(x, variant, threshold)]
    return max(0.0, min(hits) - end) * 1000 if hits else None


def false_accepts(r: dict, variant: str | None, threshold: float) -> int:
    n, quiet = 0, -1.0
    for x in r["looks"]:
        if x["at"] >= quiet and counts(x, variant, threshold):
            n, quiet = n + 1, x["at"] + REFRACTORY_S
    return n


print("| view | threshold | Pico+Kokoro missed (of 825) | in-family missed (of 400) | false accepts, 6 h in-family | delay p50 / p95, Pico+Kokoro |")
print("| --- | --- | --- | --- | --- | --- |")
for variant, threshold in [(None, 1.0)] + [(v, t) for v in variants for t in (0.6, 0.65, 0.7, 0.75, 0.8)]:
    missed, delays = defaultdict(int), []
    fa = 0
    for r in rows:
        if r["group"] == "negatives":
            fa += false_accepts(r, variant, threshold)
            continue
        d = heard_at(r, variant, threshold)
        tuning = r["family"] != "in-family"
        missed[tuning] += d is None
        if tuning and d is not None:
            delays.append(d)
    p50, p95 = np.percentile(delays, [50, 95])
    print(f"| {variant or 'head alone'} | {threshold if variant else '-'} | {missed[True]} | {missed[False]} | {fa} | {p50:.0f} / {p95:.0f} ms |")
