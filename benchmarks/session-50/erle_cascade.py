"""ERLE in reverberant rooms: AEC3 alone (the runtime, what VAD and speech-to-text hear), speex's
linear canceller alone with a 200 ms (the runtime's, the words' path) or a longer tail, and AEC3
fed speex's output (a long linear filter first, AEC3 and its suppressor after). bench echo's
measure (echo alone, +6 dB, after 2 s), the delay line and alignment as the runtime's.

usage: erle_cascade.py N SEED TAIL_MS"""
import sys

import numpy as np

from edgeai.bench import echo as be
from edgeai.ears import echo as ee
from edgeai.ears.listener import LISTEN_BLOCK_SAMPLES, build_listener
from edgeai.ears.speex import SpeexCanceller
from edgeai.runtime.context import AppContext
from edgeai.synthetic.echo import REPLIES, REPLY_STYLES, during_playback, simulate_echo_path
from edgeai.synthetic.speech import Synthesizer

n, seed, tail_ms = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
app = AppContext(None)
profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
synth = Synthesizer(app.store.main_file(app.catalog.get(profile.roles["tts"].model)))
replies = [synth.speak(t, REPLY_STYLES[i % 3]) for i, t in enumerate(REPLIES)]
rng = np.random.default_rng(seed)


def run(mic, reply):
    """Outputs (aec3, speex 200, speex long, cascade) of the whole recording."""
    listener = build_listener(conf, profile, app.store, app.catalog)
    echo = listener.echo
    longer = SpeexCanceller(16000, ee.FRAME, tail_ms * 16, ee.PLAYBACK_SUPPRESSION)
    cascade_apm = ee.load_audio_processing(echo.settings)
    cascade_linear = SpeexCanceller(16000, ee.FRAME, tail_ms * 16, ee.PLAYBACK_SUPPRESSION)
    outs = {k: [] for k in ("aec3", "speex200", f"speex{tail_ms}", "cascade")}
    aligned_blocks = []
    original = echo._linear.process

    def spy(block, aligned):
        aligned_blocks.append(aligned.copy())
        return original(block, aligned)

    echo._linear.process = spy
    step = LISTEN_BLOCK_SAMPLES
    for start in range(0, len(mic) - step + 1, step):
        block = mic[start:start + step]
        echo.reference.push(reply[start:start + step])
        outs["aec3"].append(echo.clean(block))
        outs["speex200"].append(echo.for_words)
        aligned = aligned_blocks[-1]
        outs[f"speex{tail_ms}"].append(longer.process(block, aligned)[0])
        first, _ = cascade_linear.process(block, aligned)
        out = np.empty_like(block)
        for f in range(0, step, ee.FRAME):
            far = echo._frame(aligned[f:f + ee.FRAME].tobytes(), 16000, 1, ee.FRAME)
            near = echo._frame(first[f:f + ee.FRAME].tobytes(), 16000, 1, ee.FRAME)
            cascade_apm.process_reverse_stream(far)
            cascade_apm.set_stream_delay_ms(0)
            cascade_apm.process_stream(near)
            out[f:f + ee.FRAME] = np.frombuffer(near.data, np.int16)
        outs["cascade"].append(out)
    return {k: np.concatenate(v) for k, v in outs.items()}


names = None
rows = []
for trial in range(n):
    path = simulate_echo_path(rng)
    reply = replies[trial % len(replies)]
    mic = during_playback(reply, path, be.ECHO_OVER_TALKER_DB, rng=np.random.default_rng(1))
    outs = run(mic, reply)
    late = slice(int(be.CONVERGENCE_S * 16000), None)
    erle = {k: be._db(mic[: len(v)][late]) - be._db(v[late]) for k, v in outs.items()}
    if names is None:
        names = list(erle)
        print("trial rt60  " + "  ".join(f"{k:>10s}" for k in names), flush=True)
    rows.append([path.room.rt60_s] + [erle[k] for k in names])
    print(f"{trial:5d} {path.room.rt60_s:4.2f}  " + "  ".join(f"{erle[k]:10.1f}" for k in names), flush=True)
a = np.array(rows)
for i, k in enumerate(names, 1):
    print(f"{k:>10s}: p50 {np.median(a[:, i]):.1f} dB, min {a[:, i].min():.1f}, under 25 dB {int((a[:, i] < 25).sum())} of {n}; "
          f"rooms with RT60 >= 0.6 s: p50 {np.median(a[a[:, 0] >= 0.6, i]):.1f}")
