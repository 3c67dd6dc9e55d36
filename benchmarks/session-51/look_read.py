"""Reads look_scores.py's output: false rejects per family and group, and false accepts per
hour, for the head alone and with a second look at each lengthening factor and threshold.

usage: look_read.py LOOKS.jsonl [FACTOR ...]"""
import json
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1])]
factors = sys.argv[2:] or ["1", "1.15", "1.25", "1.35", "1.5"]
SECONDS = (0.5152, 0.6, 0.7, 0.8, 0.9)
RULES = [("head alone", None, 2.0)] + [(f"x{f} >= {t}", f, t) for f in factors for t in SECONDS]


def passes(look: dict, factor: str | None, second: float) -> bool:
    return look["fired"] or (factor is not None and look["views"][factor] >= second)


def false_accepts(looks: list[dict], factor: str | None, second: float) -> int:
    count, quiet = 0, -1.0
    for look in looks:
        if look["at"] >= quiet and passes(look, factor, second):
            count, quiet = count + 1, look["at"] + 2.0
    return count


families = list(dict.fromkeys(r["family"] for r in rows))
table = {}
for name, factor, second in RULES:
    cells = []
    for fam in families:
        missed, total = defaultdict(int), defaultdict(int)
        fa = None
        for r in rows:
            if r["family"] != fam:
                continue
            if r["group"] == "negatives":
                fa = f"FA {false_accepts(r['looks'], factor, second)} in {r['hours']:.1f} h"
                continue
            total[r["group"]] += 1
            missed[r["group"]] += not any(passes(look, factor, second) for look in r["looks"])
        groups = " ".join(f"{g.replace('condition ', '')[:10]} {missed[g]}/{total[g]}" for g in total)
        cells.append(groups + (f"; {fa}" if fa else ""))
    print(f"{name:16}", *cells, sep=" | ")
