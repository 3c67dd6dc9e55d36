"""Which simulated rooms keep the canceller under the 25 dB ERLE target: bench echo's ERLE (the
echo alone, +6 dB, 2 s of convergence, what VAD and speech-to-text hear) per echo path, with
the path's distortion, delay, loudspeaker distance and reverberation time; and the same path
without distortion, to tell the loudspeaker's nonlinearity from the room.

usage: erle_rooms.py N SEED"""
import dataclasses
import sys

import numpy as np

from edgeai.bench import echo as be
from edgeai.ears.echo import clean_recording
from edgeai.ears.listener import LISTEN_BLOCK_SAMPLES, build_listener
from edgeai.runtime.context import AppContext
from edgeai.synthetic.echo import REPLIES, REPLY_STYLES, during_playback, simulate_echo_path
from edgeai.synthetic.speech import Synthesizer

n, seed = int(sys.argv[1]), int(sys.argv[2])
app = AppContext(None)
profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
synth = Synthesizer(app.store.main_file(app.catalog.get(profile.roles["tts"].model)))
replies = [synth.speak(t, REPLY_STYLES[i % 3]) for i, t in enumerate(REPLIES)]
rng = np.random.default_rng(seed)


def erle(path, reply):
    mic = during_playback(reply, path, be.ECHO_OVER_TALKER_DB, rng=np.random.default_rng(1))
    listener = build_listener(conf, profile, app.store, app.catalog)
    cleaned = clean_recording(mic, reply, listener.echo, LISTEN_BLOCK_SAMPLES)
    late = slice(int(be.CONVERGENCE_S * 16000), len(cleaned))
    return be._db(mic[late]) - be._db(cleaned[late])


print("trial  erle  erle_no_distortion  drive  delay_ms  distance_m  rt60_s  reply", flush=True)
rows = []
for trial in range(n):
    path = simulate_echo_path(rng)
    reply = replies[trial % len(replies)]
    e, clean = erle(path, reply), erle(dataclasses.replace(path, drive=1e-3), reply)
    rows.append((e, clean, path.drive, path.delay_s, path.room.distance_m, path.room.rt60_s))
    print(f"{trial:5d} {e:5.1f} {clean:5.1f} {path.drive:5.2f} {1000 * path.delay_s:6.0f} "
          f"{path.room.distance_m:6.2f} {path.room.rt60_s:5.2f} {trial % len(replies)}", flush=True)
a = np.array(rows)
for name, col in (("drive", 2), ("distance", 4), ("rt60", 5), ("delay", 3)):
    print(name, "corr with erle", round(float(np.corrcoef(a[:, 0], a[:, col])[0, 1]), 2),
          "with erle without distortion", round(float(np.corrcoef(a[:, 1], a[:, col])[0, 1]), 2))
print("under 25 dB:", int((a[:, 0] < 25).sum()), "of", n, "; without distortion:", int((a[:, 1] < 25).sum()))
