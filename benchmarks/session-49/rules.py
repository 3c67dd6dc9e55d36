"""Words heard and self-triggers under gate rules, offline from features.py's rows."""
import json, sys, glob
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
words = [r for r in rows if r["kind"] == "word"]
own = [r for r in rows if r["kind"] == "own"]
trials = {(r["cache"], r["trial"], r["word"]) for r in words}
OWN = {"hey_jarvis": 0.05 * 1.0, "stop": 0.06239}
def rule_now(r): return r["own_said"] or r["mostly_echo"] or r["relearning"]
def make(own_on="play", me_db=-15.0, me_win="lin_raw_10", own_frac=0.1, est_frac=0.1):
    def gate(r):
        thr = 0.5 if r["name"] == "hey_jarvis" else 0.6239
        if own_on in ("play", "both") and r["own"] >= own_frac * thr: return True
        if own_on in ("est", "both") and r.get("own_est", 0) >= est_frac * thr: return True
        if r[me_win] < me_db: return True
        return r["relearning"]
    return gate
def score(gate, label):
    heard = {}
    for key in trials:
        c, t, w = key
        ok = any(r["cache"] == c and r["trial"] == t and r["name"] == w and 0 <= r["from_word_s"] <= 1.5 and not gate(r) for r in words)
        heard[w] = heard.get(w, 0) + ok
    selfs = [f"{r['cache'][-9:-4]}:{r['name'][:4]}@{r['reply']}+{r['into_s']}" for r in own if not gate(r)]
    print(f"{label:32s} heard {heard} self {len(selfs)} {' '.join(selfs)}")
print("trials", len(trials), "own rows", len(own), "with est", sum('own_est' in r for r in own))
score(rule_now, "now (recorded)")
score(make(), "now (recomputed)")
for db in (-14, -13, -12, -11):
    score(make(me_db=db), f"me {db} 1s")
for db in (-14, -13, -12):
    score(make(me_db=db, me_win="lin_raw_05"), f"me {db} 0.5s")
for f in (0.1, 0.3, 0.5, 0.8):
    score(make(own_on="est", est_frac=f), f"est {f}")
    score(make(own_on="both", est_frac=f), f"both est {f}")
print("-- combos")
for db in (-15, -14, -13, -12):
    for f in (0.1, 0.3, 0.5):
        score(make(own_on="est", est_frac=f, me_db=db), f"est {f} me {db}")
