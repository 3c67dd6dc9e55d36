"""Reads second_look.py's candidates: false rejects per family and group and false accepts per
hour, for the head alone and for each second look (a view, or several of which any may pass)
at each second threshold, with the candidates taken from LOW up.

usage: second_look_read.py LOOKS.jsonl LOW [VIEW+VIEW ...]"""
import json
import sys
from collections import defaultdict

path, low = sys.argv[1], float(sys.argv[2])
rows = [json.loads(line) for line in open(path)]
SECONDS = (0.5152, 0.6, 0.7, 0.8, 0.9, 0.95)
RULES = [("head alone", (), 1.0)] + [
    (f"{views} >= {t}", tuple(views.split("+")), t)
    for views in (sys.argv[3:] or ["as heard", "tape x1.2", "tape x1.4", "ola x1.25", "ola x1.5",
                                    "level -20", "level -20 ola x1.25"])
    for t in SECONDS
]


def passes(look: dict, views: tuple[str, ...], second: float) -> bool:
    if look["fired"]:
        return True
    return look["base"] >= low and any(look["views"][v] >= second for v in views)


def false_accepts(looks: list[dict], views: tuple[str, ...], second: float) -> int:
    count, quiet = 0, -1.0
    for look in looks:
        if look["at"] >= quiet and passes(look, views, second):
            count, quiet = count + 1, look["at"] + 2.0
    return count


families = sorted({r["family"] for r in rows})
print("rule", *[f"{fam}: FR by group / FA per hour" for fam in families], sep=" | ")
for name, views, second in RULES:
    cells = []
    for fam in families:
        missed, total = defaultdict(int), defaultdict(int)
        fa, hours = 0, 0.0
        for r in rows:
            if r["family"] != fam:
                continue
            if r["group"] == "negatives":
                fa, hours = false_accepts(r["looks"], views, second), r["hours"]
                continue
            total[r["group"]] += 1
            missed[r["group"]] += not any(passes(look, views, second) for look in r["looks"])
        groups = " ".join(f"{g.replace('condition ', '')[:8]} {missed[g]}/{total[g]}" for g in total)
        cells.append(f"{groups}; FA {fa} in {hours:.1f} h")
    print(name, *cells, sep=" | ")
