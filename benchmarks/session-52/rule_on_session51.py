"""The trainer's look rule (edgeai/export/wakeword/look_choice.py `choose`) on session 51's
traced tuning looks (benchmarks/session-51/tuning-looks-2026-12-07.jsonl: Pico's and Kokoro's
phrases, 6 hours of in-family dev speech, the bundled head): does the code choose what session
51 chose by hand (x1.35 at 0.7)?

usage: rule_on_session51.py LOOKS.jsonl"""
import json
import sys

from edgeai.ears.wake.evaluate import EARLY_S
from edgeai.export.wakeword.look_choice import Look, choose

rows = [json.loads(line) for line in open(sys.argv[1])]


def looks(row: dict) -> list[Look]:
    return [Look(x["at"], x["fired"], {float(f): v for f, v in x.get("views", {}).items()})
            for x in row["looks"]]


# session 51's rows keep only the looks within EARLY_S..LATE_S of each phrase's end (at most
# 1.5 s apart): an end EARLY_S after the first of them keeps them all
positives = [(looks(r), min([x["at"] for x in r["looks"]], default=0.0) + EARLY_S) for r in rows
             if r["family"] in ("pico", "kokoro") and r["group"] != "negatives"]
negatives = next(r for r in rows if r["group"] == "negatives")
c = choose(positives, looks(negatives), negatives["hours"], 0.5, 2.0)
print(f"chosen {c.spec}; misses {c.misses} of {c.positives} (head alone {c.misses_alone}); "
      f"false accepts {c.false_accepts} in {c.negative_hours:.1f} h (head alone {c.false_accepts_alone})")
