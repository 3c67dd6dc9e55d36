"""What session 49's features.py and session 50's own_timing.py share: bench echo's cached word
trials and own replies through an instrumented listener, one JSON row per detection it records.

`instrumented(rows, tag)` builds a listener that appends a dict (with `at_s`, the listener's
stream time) to `rows` for each detection; word-trial rows gain `from_word_s` (from the user's
word), own-reply rows `reply` and `into_s`."""
import json
import pickle
import time

from edgeai.bench import echo as be


def drive_caches(caches, instrumented, out) -> None:
    for cache in caches:
        d = pickle.load(open(cache, "rb"))
        for i, t in enumerate(d.get("word_trials", [])):
            rows: list = []
            listener = instrumented(rows, dict(cache=cache, kind="word", trial=i, word=t["name"]))
            be._heard(listener, t["earlier"], t["before"])
            start = listener.now_s
            rows.clear()
            be._heard(listener, t["mic"], t["reply"])
            for r in rows:
                r["from_word_s"] = round(r["at_s"] - start - t["word_at_s"], 2)
                out.write(json.dumps(r) + "\n")
        rows = []
        listener = instrumented(rows, dict(cache=cache, kind="own"))
        for j, (reply, mic) in enumerate(d.get("own", [])):
            start = listener.now_s
            n = len(rows)
            be._heard(listener, mic, reply)
            for r in rows[n:]:
                r["reply"], r["into_s"] = j, round(r["at_s"] - start, 2)
        for r in rows:
            out.write(json.dumps(r) + "\n")
        out.flush()
        print(cache, "done", time.strftime("%H:%M:%S"), flush=True)
