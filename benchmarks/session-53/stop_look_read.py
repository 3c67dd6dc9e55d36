"""What each stop-word look rule would hear, from stop_look_trace.py's rows: per cache, the
"stop" word trials heard (the head alone through the listener's gates, or a look at lengthening
F scoring at least T within bench echo's 1.5 s of the word) and the self-stops over own replies
(the head alone's, and looks at T or over, one per refractory second). Looks are counted before
the listener's own-word gates, so both figures are upper bounds; the chosen rule is then run
through the real listener (or_probe.py).

usage: stop_look_read.py TRACE.jsonl ..."""
import json
import sys
from collections import defaultdict

from edgeai.bench.echo import WORD_FOUND_WITHIN_S
from edgeai.export.wakeword.look_choice import FACTORS, THRESHOLDS

trials, looks, own_found = {}, defaultdict(list), defaultdict(list)
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)
        if r["kind_row"] == "trial" and r["word"] == "stop":
            trials[(r["cache"], r["trial"])] = r
        elif r["kind_row"] == "look" and r["part"] == "word" and r["word"] == "stop":
            looks[(r["cache"], r["trial"])].append(r)
        elif r["kind_row"] == "look" and r["part"] == "own":
            looks[(r["cache"], "own")].append(r)
        elif r["kind_row"] == "own":
            own_found[r["cache"]] += [f for f in r["found"] if f[0] == "stop"]
caches = sorted({c for c, _ in trials} | set(own_found))


def within(at_s, r):
    return 0 <= at_s - r["start_s"] - r["word_at_s"] <= WORD_FOUND_WITHIN_S


def heard(cache, rule):
    n = hit = 0
    for (c, i), r in trials.items():
        if c != cache:
            continue
        n += 1
        alone = any(name == "stop" and within(at, r) for name, at in r["found"])
        looked = rule is not None and any(
            l["scores"][str(rule[0])] >= rule[1] and within(l["at_s"], r) for l in looks[(c, i)])
        hit += alone or looked
    return hit, n


def selfs(cache, rule):
    count = len(own_found.get(cache, []))
    if rule is None:
        return count
    last = -9.0
    for l in sorted(looks[(cache, "own")], key=lambda l: l["at_s"]):
        if l["scores"][str(rule[0])] >= rule[1] and l["at_s"] - last >= 1.0:
            count, last = count + 1, l["at_s"]
    return count


rules = [None] + [(f, t) for f in FACTORS for t in THRESHOLDS]
short = [c.split("/")[-1].replace(".pkl", "") for c in caches]
print("| rule | " + " | ".join(short) + " |")
print("| --- |" + " --- |" * len(caches))
for rule in rules:
    cells = []
    for c in caches:
        h, n = heard(c, rule)
        cells.append(f"{h}/{n}" if n else f"{selfs(c, rule)} self")
    name = "head alone" if rule is None else f"x{rule[0]} at {rule[1]}"
    print(f"| {name} | " + " | ".join(cells) + " |")
