"""What the canceller was doing when a self-trigger got through: over a cache's own replies,
the time of every detection the listener reported, with the delay estimates of the seconds
before it and the linear canceller's output over the microphone in each 0.5 s before it.

usage: self_stop_context.py CACHE.pkl CONFIG.yaml
"""
import sys, pickle
from pathlib import Path
import numpy as np
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.ears import echo as ee
from edgeai.ears.listener import build_listener

log = []  # (time s, delay samples or None, raw energy, linear energy)
orig = ee.EchoCanceller._process
clock = [0]
def process(self, block, played):
    out = orig(self, block, played)
    e = lambda a: float(np.sum(np.asarray(a, np.float64) ** 2))
    est = self._tracker.estimate
    log.append((clock[0] / 16000, est.samples if est else None, e(block), e(self.for_words)))
    return out
ee.EchoCanceller._process = process

data = pickle.load(open(sys.argv[1], "rb"))
app = AppContext(Path(sys.argv[2])); profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
listener = build_listener(conf, profile, app.store, app.catalog)
start = 0
for n, (reply, mic) in enumerate(data["own"]):
    base = listener.now_s
    step = 320
    for s in range(0, len(mic) - step + 1, step):
        listener.echo.reference.push(reply[s : s + step])
        clock[0] = int((base) * 16000) + s
        for ev in listener.push(mic[s : s + step]):
            if hasattr(ev, "name"):
                t = base + s / 16000
                recent = [r for r in log if t - 3.0 <= r[0] <= t]
                delays = sorted({r[1] for r in recent})
                halves = []
                for k in range(6):
                    seg = [r for r in recent if t - 0.5 * (k + 1) < r[0] <= t - 0.5 * k]
                    raw = sum(r[2] for r in seg); lin = sum(r[3] for r in seg)
                    halves.append(round(10 * np.log10(lin / raw), 1) if raw > 0 and lin > 0 else None)
                print(f"reply {n} at {s/16000:.2f} s: {ev.name}; delays (samples) over 3 s {delays}; linear/raw per 0.5 s back {halves}", flush=True)
