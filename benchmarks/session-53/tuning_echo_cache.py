"""bench echo's word trials with talkers of the two families no head trained on (SVOX Pico and
Kokoro) instead of the espeak-ng ones: the tuning set for a look during playback. Built and
cached by session 45's echo_side.py (no configs scored); MBROLA stays apart (read after).

usage: tuning_echo_cache.py CACHE.pkl TRIALS OWN_MIN SEED pico|kokoro"""
import runpy
import sys
from pathlib import Path

from edgeai.bench import echo as be
from edgeai.runtime.context import AppContext
from edgeai.synthetic import speech
from edgeai.synthetic.kokoro import KOKORO_MODEL, kokoro_voices

family = sys.argv[5]
if family == "pico":  # both of Pico's voices, slow to fast, lower to higher
    be.TALKERS = tuple(speech.PicoVoice(lang, speed, pitch) for lang in speech.PICO_LANGUAGES
                       for speed, pitch in ((85, 80), (100, 100), (130, 120), (160, 90)))
else:
    be.TALKERS = tuple(kokoro_voices()[::3])
    app = AppContext(None)
    folder = app.store.require(app.catalog.get(KOKORO_MODEL))
    plain = speech.Synthesizer

    class WithKokoro(plain):  # echo_side builds its synthesizer with piper alone
        def __init__(self, piper_model, kokoro_model=None):
            super().__init__(piper_model, folder)

    speech.Synthesizer = WithKokoro
print(family, len(be.TALKERS), "talkers", flush=True)
sys.argv = ["echo_side.py", *sys.argv[1:5], "/dev/null"]
runpy.run_path(str(Path(__file__).parents[1] / "session-45" / "echo_side.py"), run_name="__main__")
