"""Own replies, as bench echo plays them (a room and level every 2 minutes), heard by two
listeners on the same audio: the runtime's, and one whose words all hear the linear canceller
(as before session 48). Prints every self-trigger with its reply, room level and time.

usage: self_stops.py MINUTES SEED
"""
import sys
import numpy as np
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.ears.listener import LISTEN_BLOCK_SAMPLES, build_listener
from edgeai.messages import StopWordHeard, WakeDetected
from edgeai.synthetic.echo import REPLIES, REPLY_STYLES, OWN_LEVELS_DB, during_playback, simulate_echo_path
from edgeai.synthetic.speech import Synthesizer

minutes, seed = float(sys.argv[1]), int(sys.argv[2])
app = AppContext(None); profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
synth = Synthesizer(app.store.main_file(app.catalog.get(profile.roles["tts"].model)))
replies = [synth.speak(t, REPLY_STYLES[i % 3]) for i, t in enumerate(REPLIES)]
listeners = {v: build_listener(conf, profile, app.store, app.catalog) for v in ("now", "linear")}
linear = listeners["linear"].echo._linear
process = type(linear).process
linear.process = lambda near, far: (lambda l, s: (l, l))(*process(linear, near, far))
rng = np.random.default_rng(seed)
pause = np.zeros(16000, np.int16)
played_s, index, until, counts = 0.0, 0, 0.0, {"now": {}, "linear": {}}
while played_s < minutes * 60:
    i = index % len(replies); reply = np.concatenate([replies[i], pause]); index += 1
    if played_s >= until:
        path, level = simulate_echo_path(rng), float(rng.uniform(*OWN_LEVELS_DB)); until = played_s + 120
    mic = during_playback(reply, path, level, rng=rng)
    for variant, listener in listeners.items():
        start = listener.now_s
        for at in range(0, len(mic) - LISTEN_BLOCK_SAMPLES + 1, LISTEN_BLOCK_SAMPLES):
            listener.echo.reference.push(reply[at : at + LISTEN_BLOCK_SAMPLES])
            for event in listener.push(mic[at : at + LISTEN_BLOCK_SAMPLES]):
                if isinstance(event, WakeDetected | StopWordHeard):
                    name, t = event.name, event.at_s
                    counts[variant][name] = counts[variant].get(name, 0) + 1
                    print(f"{variant}: {name} ({event.score:.3f}) at {t - start:.2f} s into reply {i} ({REPLIES[i][:60]!r}), level {level:+.1f} dB, delay {listener.echo.status().delay_ms} ms", flush=True)
            listener.phase = be.Phase.WAITING
    played_s += len(reply) / 16000
print("minutes", round(played_s / 60, 1), counts, flush=True)
