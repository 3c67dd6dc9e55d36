"""How the bundled heads hold up when faint other speech lies under the word: each family's
"Stop." and "Hey Jarvis." (at bench echo's talker level), alone in digital silence and with one
of the device's replies (Piper) 40 / 30 / 24 / 18 dB under it; the best score over the clip.
No canceller, no room: what an ideal canceller's residue does to the heads.

usage: words_under_speech.py [HEAD_DIR]   (HEAD_DIR: another stop.onnx/hey_jarvis.onnx pair's folder)"""
import json
import sys
from pathlib import Path

import numpy as np

from edgeai.bench import echo as be
from edgeai.ears.wake.evaluate import REFRACTORY_S
from edgeai.ears.wake.frontend import BLOCK_SAMPLES
from edgeai.ears.wake.heads import WakeHead, WakeWordSpec
from edgeai.ears.listener import build_listener
from edgeai.runtime.context import AppContext
from edgeai.synthetic import speech
from edgeai.synthetic.echo import REPLIES, REPLY_STYLES, TALKER_RMS
from edgeai.synthetic.held_out_voices import mbrola_voices
from edgeai.synthetic.kokoro import KOKORO_MODEL, kokoro_voices

LEVELS_DB = (None, -40, -30, -24, -18)
app = AppContext(None)
profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": False})})
synth = speech.Synthesizer(app.store.main_file(app.catalog.get(profile.roles["tts"].model)),
                           app.store.require(app.catalog.get(KOKORO_MODEL)))
detector = build_listener(conf, profile, app.store, app.catalog).detector
heads = {h.spec.name: h for h in detector.heads}
if len(sys.argv) > 1:
    folder = Path(sys.argv[1])
    heads = {n: WakeHead(WakeWordSpec(n, folder / f"{n}.onnx", json.loads((folder / f"{n}.json").read_text())["threshold"],
                                      REFRACTORY_S)) for n in heads if (folder / f"{n}.onnx").is_file()}
replies = [synth.speak(t, REPLY_STYLES[i % 3]).astype(np.float64) for i, t in enumerate(REPLIES[:4])]
families = {
    "in-family (bench echo's espeak-ng talkers)": be.TALKERS,
    "SVOX Pico": tuple(speech.PicoVoice(lang, s, p) for lang in speech.PICO_LANGUAGES for s, p in ((85, 80), (100, 100), (130, 120))),
    "Kokoro": tuple(kokoro_voices()[::5]),
    "MBROLA (held out, read only)": mbrola_voices(),
}
level = TALKER_RMS * 32767


def best(audio: np.ndarray, name: str) -> float:
    stream = detector.frontend.stream()
    audio = np.clip(np.rint(audio), -32768, 32767).astype(np.int16)
    return max(heads[name].score(stream.push(audio[i:i + BLOCK_SAMPLES]))
               for i in range(0, len(audio) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES))


print("| word | family | voices | " + " | ".join("silence" if d is None else f"reply {d} dB" for d in LEVELS_DB) + " |")
print("| --- | --- | --- |" + " --- |" * len(LEVELS_DB))
for text, name in [(t, n) for t, n in (("Stop.", "stop"), ("Hey Jarvis.", "hey_jarvis")) if n in heads]:
    for family, voices in families.items():
        scores = np.zeros((len(voices), len(replies), len(LEVELS_DB)))
        for v, voice in enumerate(voices):
            word = synth.speak(text, voice).astype(np.float64)
            word *= level / np.sqrt(np.mean(word ** 2))
            for r, reply in enumerate(replies):
                for k, db in enumerate(LEVELS_DB):
                    under = np.zeros(len(reply)) if db is None else reply * (level * 10 ** (db / 20) / np.sqrt(np.mean(reply ** 2)))
                    under[16000:16000 + len(word)] += word
                    scores[v, r, k] = best(under, name)
        cells = [f"{np.median(scores[:, :, k]):.2f} ({np.mean(scores[:, :, k] >= heads[name].spec.threshold):.0%})"
                 for k in range(len(LEVELS_DB))]
        print(f"| {name} | {family} | {len(voices)} | " + " | ".join(cells) + " |", flush=True)
print("cells: median best score over voices x 4 replies (share at or over the head's threshold)")
