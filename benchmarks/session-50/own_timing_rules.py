"""The own-word check by when the playback's word peaked, offline from own_timing.py's rows: a
word found in the microphone is edgeai's own when the playback's score peaked (a local maximum
at OWN_SCORE of the threshold or more) between LO and HI seconds past the measured delay
before the detection, rather than anywhere over the latest delay + OWN_LAG_S (today's rule,
which also takes the tail of a word the reply said earlier). The other gates as recorded.

usage: own_timing_rules.py ROWS.jsonl ..."""
import json
import sys

rows = [json.loads(line) for f in sys.argv[1:] for line in open(f)]
MAX_DELAY_S = 0.25


def peaks(r, bar):
    s = r["series"]
    out = []
    for i, (age, score) in enumerate(s):
        older = s[i - 1][1] if i > 0 else 0.0
        younger = s[i + 1][1] if i + 1 < len(s) else 0.0
        if score >= bar and score >= older and score >= younger:
            out.append((age, score))
    return out


def own_now(r):
    return r["own_said"]


def own_by_peak(lo, hi, frac=0.1):
    def own(r):
        delay = MAX_DELAY_S if r["delay_s"] is None else r["delay_s"]
        return any(delay + lo <= age <= delay + hi for age, _ in peaks(r, frac * r["threshold"]))
    return own


def evaluate(own, label):
    words = [r for r in rows if r["kind"] == "word"]
    trials = {}
    for r in words:
        key = (r["cache"], r["trial"], r["word"])
        ok = 0 <= r["from_word_s"] <= 1.5 and not (own(r) or r["mostly_echo"] or r["relearning"])
        trials[key] = trials.get(key, False) or ok
    heard = {}
    for (cache, _, word), ok in trials.items():
        k = ("mb:" if "/mb" in cache else "in:") + word
        heard[k] = heard.get(k, 0) + ok
    selfs = [r for r in rows if r["kind"] == "own" and not (own(r) or r["mostly_echo"] or r["relearning"])]
    print(f"{label:28s} heard {heard} self {len(selfs)} "
          + " ".join(f"{r['cache'].split('/')[-1][:-4]}:{r['name'][:4]}@{r['reply']}+{r['into_s']}" for r in selfs), flush=True)


evaluate(own_now, "now")
for lo in (-0.2, -0.1, 0.0):
    for hi in (0.2, 0.3, 0.4, 0.5):
        evaluate(own_by_peak(lo, hi), f"peak in delay{lo:+}..{hi:+}")
print("-- own detections only the own-word check holds: peak ages past the delay")
for r in rows:
    if r["kind"] == "own" and r["own_said"] and not (r["mostly_echo"] or r["relearning"]):
        delay = MAX_DELAY_S if r["delay_s"] is None else r["delay_s"]
        p = [(round(a - delay, 2), s) for a, s in peaks(r, 0.1 * r["threshold"]) if a - delay < 1.5]
        print(f"  {r['cache'].split('/')[-1]} {r['name']} reply {r['reply']}+{r['into_s']} delay {r['delay_s']} peaks {p}")
print("-- users' words the check drops now: peak ages past the delay")
for r in rows:
    if r["kind"] == "word" and r["own_said"] and 0 <= r["from_word_s"] <= 1.5:
        delay = MAX_DELAY_S if r["delay_s"] is None else r["delay_s"]
        p = [(round(a - delay, 2), s) for a, s in peaks(r, 0.1 * r["threshold"]) if a - delay < 1.5]
        print(f"  {r['cache'].split('/')[-1]} {r['trial']} {r['word']} +{r['from_word_s']} delay {r['delay_s']} peaks {p}")
