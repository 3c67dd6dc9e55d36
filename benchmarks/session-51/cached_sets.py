"""What the session-51 probes share: run a probe's looks over every clip and the ordinary
speech of cached sets (dev_cache.py's or tuning_cache.py's), one JSON line per clip."""
import json
import pickle
import time
from collections.abc import Callable

import numpy as np

from edgeai.ears.wake.evaluate import EARLY_S, LATE_S

SR = 16000


def flat(sets: dict) -> dict:
    """dev_cache.py nests bench wake's conditions; tuning_cache.py does not."""
    groups = {k: v for k, v in sets.items() if k != "conditions"}
    groups.update({f"condition {k}": v for k, v in sets.get("conditions", {}).items()})
    return groups


def write_looks(sets_path: str, out: str, looks: Callable[[np.ndarray], list[dict]]) -> None:
    """Each positive's looks near its phrase's end; every look in the ordinary speech."""
    data = pickle.load(open(sets_path, "rb"))
    with open(out, "w") as f:
        for family, sets in data.items():
            t0 = time.time()
            for group, clips in flat(sets).items():
                if isinstance(clips, np.ndarray):  # ordinary speech without the phrase
                    f.write(json.dumps({"family": family, "group": "negatives",
                                        "hours": len(clips) / SR / 3600, "looks": looks(clips)}) + "\n")
                else:
                    for idx, p in enumerate(clips):
                        end = p.end_sample / SR
                        near = [c for c in looks(p.clip) if end - EARLY_S <= c["at"] <= end + LATE_S]
                        f.write(json.dumps({"family": family, "group": group, "idx": idx, "looks": near}) + "\n")
                f.flush()
                print(family, group, round(time.time() - t0), "s", flush=True)
