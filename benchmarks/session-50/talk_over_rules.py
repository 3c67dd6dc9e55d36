"""The own-word check overruled while the user talks over the reply, offline from
benchmarks/session-49/features.py's rows: a word the playback also said is the user's when the
linear canceller's output over the latest second (or 0.5 s) is within D dB of the microphone
(little of it was echo), or rose R dB over this room's before the word.

usage: talk_over_rules.py FEATURES.jsonl ..."""
import json
import sys

rows = [json.loads(line) for f in sys.argv[1:] for line in open(f)]
words = [r for r in rows if r["kind"] == "word"]
own = [r for r in rows if r["kind"] == "own"]
trials = sorted({(r["cache"], r["trial"], r["word"]) for r in words})
THRESHOLD = {"hey_jarvis": 0.5152, "stop": 0.6239}
MOSTLY_ECHO_DB = -13.0


def make(talk_db=None, rise_db=None, window="lin_raw_10"):
    def dropped(r):
        if r["relearning"] or r["lin_raw_10"] < MOSTLY_ECHO_DB:
            return True
        if r["own"] < 0.1 * THRESHOLD[r["name"]]:
            return False
        talking = talk_db is not None and r[window] > -talk_db
        rising = rise_db is not None and r[window] - r["lin_raw_base"] > rise_db
        return not (talking or rising)
    return dropped


def score(dropped, label):
    heard = {}
    for cache, trial, word in trials:
        family = "mb" if "/mb" in cache else "in"
        ok = any(r["cache"] == cache and r["trial"] == trial and r["name"] == word
                 and 0 <= r["from_word_s"] <= 1.5 and not dropped(r) for r in words)
        heard[f"{family}:{word}"] = heard.get(f"{family}:{word}", 0) + ok
    selfs = [f"{r['cache'].split('/')[-1][:-4]}:{r['name'][:4]}@{r['reply']}+{r['into_s']}"
             f"({r[window_of(label)]:+.1f}/{r['lin_raw_base']:+.1f})" for r in own if not dropped(r)]
    print(f"{label:24s} heard {heard} self {len(selfs)} {' '.join(selfs)}", flush=True)


def window_of(label):
    return "lin_raw_05" if "0.5s" in label else "lin_raw_10"


n = {}
for cache, _, word in trials:
    key = ("mb:" if "/mb" in cache else "in:") + word
    n[key] = n.get(key, 0) + 1
print("trials", n, "own detections", len(own), "own minutes ~", len({(r['cache'], r['reply']) for r in own}))
score(make(), "now")
for d in (4, 6, 8, 10):
    score(make(talk_db=d), f"talk {d} 1s")
    score(make(talk_db=d, window="lin_raw_05"), f"talk {d} 0.5s")
for rise in (6, 8, 10, 12):
    score(make(rise_db=rise), f"rise {rise} 1s")
    score(make(rise_db=rise, window="lin_raw_05"), f"rise {rise} 0.5s")
print("-- the user's words the own-word check drops now: (cache trial word) from_word lin_raw_10 / 0.5 / base, own")
for r in words:
    if 0 <= r["from_word_s"] <= 1.5 and r["own"] >= 0.1 * THRESHOLD[r["name"]]:
        print(f"  {r['cache'].split('/')[-1]} {r['trial']} {r['word']} on {r['on']} +{r['from_word_s']} "
              f"{r['lin_raw_10']:+.1f} / {r['lin_raw_05']:+.1f} / {r['lin_raw_base']:+.1f} own {r['own']}")
print("-- own detections the own-word check alone drops: lin_raw_10 / 0.5 / base")
for r in own:
    if not r["relearning"] and r["lin_raw_10"] >= MOSTLY_ECHO_DB and r["own"] >= 0.1 * THRESHOLD[r["name"]]:
        print(f"  {r['cache'].split('/')[-1]} {r['name']} reply {r['reply']}+{r['into_s']} "
              f"{r['lin_raw_10']:+.1f} / {r['lin_raw_05']:+.1f} / {r['lin_raw_base']:+.1f} own {r['own']}")
