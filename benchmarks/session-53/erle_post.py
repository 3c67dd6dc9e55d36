"""ERLE in reverberant rooms with a second, linear stage *after* AEC3 (session 50 tried one
before it, which was worse): speex's canceller fed AEC3's output as the microphone and the same
aligned reference, with a 200 / 500 ms tail, its linear output and its residual suppressor's.
Beside ERLE (echo alone, +6 dB, after 2 s, bench echo's measure) the talker's fidelity under
double talk: a piper request said 2.5 s into the reply at the same rooms, scale-invariant SDR
of each output against the talker alone over the request (what VAD and speech-to-text hear).

usage: erle_post.py N SEED"""
import sys

import numpy as np

from edgeai.bench import echo as be
from edgeai.ears import echo as ee
from edgeai.ears.listener import LISTEN_BLOCK_SAMPLES, build_listener
from edgeai.ears.speex import SpeexCanceller, Suppression
from edgeai.runtime.context import AppContext
from edgeai.synthetic.echo import REPLIES, REPLY_STYLES, during_playback, simulate_echo_path
from edgeai.synthetic.speech import Synthesizer

n, seed = int(sys.argv[1]), int(sys.argv[2])
app = AppContext(None)
profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
synth = Synthesizer(app.store.main_file(app.catalog.get(profile.roles["tts"].model)))
replies = [synth.speak(t, REPLY_STYLES[i % 3]) for i, t in enumerate(REPLIES)]
request = synth.speak("Set a timer for ten minutes and turn off the kitchen lights.", REPLY_STYLES[1])
TALK_AT_S = 2.5
POST = {  # name: (tail ms, suppression)
    "post200": (200, ee.PLAYBACK_SUPPRESSION),
    "post500": (500, ee.PLAYBACK_SUPPRESSION),
    "post500mild": (500, Suppression(echo_db=-20, echo_active_db=-6, noise_db=-1)),
}


def run(mic, reply):
    """Each variant's output of the whole recording."""
    listener = build_listener(conf, profile, app.store, app.catalog)
    echo = listener.echo
    post = {k: SpeexCanceller(16000, ee.FRAME, ms * 16, sup) for k, (ms, sup) in POST.items()}
    outs = {"aec3": []}
    for k in POST:
        outs[k + "_lin"], outs[k + "_sup"] = [], []
    aligned_blocks = []
    original = echo._linear.process

    def spy(block, aligned):
        aligned_blocks.append(aligned.copy())
        return original(block, aligned)

    echo._linear.process = spy
    step = LISTEN_BLOCK_SAMPLES
    for start in range(0, len(mic) - step + 1, step):
        block = mic[start:start + step]
        echo.reference.push(reply[start:start + step])  # as long as the microphone: always a block
        out = echo.clean(block)
        outs["aec3"].append(out)
        aligned = aligned_blocks[-1]  # the reference AEC3 was just given, aligned by the delay line
        for k, canceller in post.items():
            lin, sup = canceller.process(out, aligned)
            outs[k + "_lin"].append(lin)
            outs[k + "_sup"].append(sup)
    return {k: np.concatenate(v).astype(np.float64) for k, v in outs.items()}


def si_sdr(out, ref, max_lag=400):
    """Scale-invariant SDR at the lag that fits best (AEC3's output comes ~9 ms late)."""
    c = np.correlate(out, ref[max_lag:-max_lag], mode="valid")
    lag = int(np.argmax(np.abs(c)))
    out, ref = out[lag:lag + len(ref) - 2 * max_lag], ref[max_lag:-max_lag]
    g = np.dot(out, ref) / (np.dot(ref, ref) + 1e-9)
    err = out - g * ref
    return 10 * np.log10(np.dot(g * ref, g * ref) / (np.dot(err, err) + 1e-9))


names = None
rows = []
for trial in range(n):
    rng = np.random.default_rng(seed * 1000 + trial)
    path = simulate_echo_path(rng)
    reply = replies[trial % len(replies)]
    mic = during_playback(reply, path, be.ECHO_OVER_TALKER_DB, rng=np.random.default_rng(1))
    outs = run(mic, reply)
    late = slice(int(be.CONVERGENCE_S * 16000), None)
    erle = {k: be._db(mic[: len(v)][late]) - be._db(v[late]) for k, v in outs.items()}
    # double talk: the request over the same reply, in the same room
    padded = np.concatenate([reply, np.zeros(16000, np.int16)])
    talk_mic = during_playback(padded, path, be.ECHO_OVER_TALKER_DB, talker=request, talker_at_s=TALK_AT_S,
                               rng=np.random.default_rng(1))
    alone = during_playback(np.zeros_like(padded), path, -120.0, talker=request, talker_at_s=TALK_AT_S,
                            rng=np.random.default_rng(1)).astype(np.float64)
    talk = run(talk_mic, padded)
    span = slice(int(TALK_AT_S * 16000), min(int(TALK_AT_S * 16000) + len(request), len(talk['aec3'])))
    sdr = {k: si_sdr(v[span], alone[span]) for k, v in talk.items()}
    sdr["mic"] = si_sdr(talk_mic[span].astype(np.float64), alone[span])
    if names is None:
        names = list(erle)
        print("trial rt60  " + "  ".join(f"{k:>14s}" for k in names) + "   (ERLE dB / talker SI-SDR dB)", flush=True)
    rows.append([path.room.rt60_s] + [erle[k] for k in names] + [sdr[k] for k in names] + [sdr["mic"]])
    print(f"{trial:5d} {path.room.rt60_s:4.2f}  " + "  ".join(f"{erle[k]:6.1f}/{sdr[k]:6.1f} " for k in names)
          + f"  mic sdr {sdr['mic']:.1f}", flush=True)
a = np.array(rows)
m = len(names)
rev = a[:, 0] >= 0.75
for i, k in enumerate(names, 1):
    print(f"{k:>14s}: ERLE p50 {np.median(a[:, i]):.1f} dB, min {a[:, i].min():.1f}, under 25 dB {int((a[:, i] < 25).sum())} of {n}; "
          f"RT60 >= 0.75 s ({int(rev.sum())}): p50 {np.median(a[rev, i]) if rev.any() else float('nan'):.1f}; "
          f"talker SI-SDR p50 {np.median(a[:, m + i]):.1f} dB (reverberant {np.median(a[rev, m + i]) if rev.any() else float('nan'):.1f})")
print(f"mic talker SI-SDR p50 {np.median(a[:, -1]):.1f}")
