"""Where `edgeai bench echo`'s self-triggers over its own replies come from: the bench's own
draws (seed, trials), with the word trials' listening skipped, and each self-trigger printed
with the canceller's delay estimates and its output over the microphone per 0.5 s before it.

usage: bench_self_triggers.py SEED [TRIALS] [MINUTES] [ROOM_MINUTES]
"""
import sys
import numpy as np
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.ears import echo as ee
from edgeai.ears.listener import build_listener
from edgeai.synthetic.speech import Synthesizer

seed = int(sys.argv[1]); trials = int(sys.argv[2]) if len(sys.argv) > 2 else 24
minutes = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
room_minutes = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
app = AppContext(None); profile = app.active_profile()
conf = {on: app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": on})}) for on in (True, False)}
make = lambda on: build_listener(conf[on], profile, app.store, app.catalog)

log = []
orig_process = ee.EchoCanceller._process
def process(self, block, played):
    out = orig_process(self, block, played)
    e = lambda a: float(np.sum(np.asarray(a, np.float64) ** 2))
    est = self._tracker.estimate
    log.append((est.samples if est else None, e(block), e(self.for_words), getattr(self, "relearning", None)))
    return out

real_heard = be._heard
own_phase = [False]
replies_seen = [0]
def heard(listener, mic, played):
    if not own_phase[0]:
        return []  # the word trials: their draws are made, their listening skipped
    if listener.echo is None:
        return []
    ee.EchoCanceller._process = process
    log.clear()
    found = real_heard(listener, mic, played)
    replies_seen[0] += 1
    for name, at in found:
        t_block = int((at - (listener.now_s - len(mic) / 16000)) * 16000 / be.LISTEN_BLOCK_SAMPLES)
        recent = log[max(0, t_block - 150): t_block]
        halves = []
        for k in range(6):
            seg = recent[len(recent) - 25 * (k + 1): len(recent) - 25 * k] if len(recent) >= 25 * (k + 1) else []
            raw = sum(r[1] for r in seg); lin = sum(r[2] for r in seg)
            halves.append(round(10 * np.log10(lin / raw), 1) if raw > 0 and lin > 0 else None)
        print(f"reply {replies_seen[0]}: {name} at {at - (listener.now_s - len(mic) / 16000):.2f} s;"
              f" delays {sorted({r[0] for r in recent})}; linear/raw per 0.5 s back {halves}", flush=True)
    return found
be._heard = heard
be._heard_by = lambda *a: False
be.clean_recording = lambda mic, played, canceller, block: mic
orig_own = be._own_replies
def own(*a, **k):
    own_phase[0] = True
    return orig_own(*a, **k)
be._own_replies = own
synth = Synthesizer(app.store.main_file(app.catalog.get(profile.roles["tts"].model)))
result = be.bench_echo(make, synth, trials, minutes, lambda s: None, seed, room_minutes=room_minutes)
print("self-triggers", result.self_triggers, "rooms", result.own_rooms)
