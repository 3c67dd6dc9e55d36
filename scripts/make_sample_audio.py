"""Rebuild samples/*.wav, the bundled demo audio, with the piper joe voice from the model store.

Usage: .venv/bin/python scripts/make_sample_audio.py   (needs the export extra and
`edgeai models pull piper-en-us-joe-medium`)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeai.audio.files import write_wav
from edgeai.config import Config
from edgeai.models.catalog import Catalog
from edgeai.synthetic.speech import PiperStyle, Synthesizer

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
PAUSE_S = {"short": 0.4, "lead": 1.0, "tail": 1.2}


def main() -> None:
    catalog = Catalog.load()
    store = Config().models.store_path()
    voice = store / "piper-en-us-joe-medium" / catalog.get("piper-en-us-joe-medium").files[0].name
    synth = Synthesizer(voice)
    style = PiperStyle(1.0, 0.667, 0.8)

    def pause(kind: str) -> np.ndarray:
        return np.zeros(int(PAUSE_S[kind] * 16000), np.int16)

    turn = [pause("lead"), synth.speak("Hey Jarvis.", style), pause("short"),
            synth.speak("What time is it?", style), pause("tail")]  # fmt: skip
    write_wav(SAMPLES / "hey_jarvis_what_time_is_it.wav", np.concatenate(turn))
    turn = [pause("lead"), synth.speak("Hey Jarvis.", style), pause("short"),
            synth.speak("What do you see?", style), pause("tail")]  # fmt: skip
    write_wav(SAMPLES / "hey_jarvis_what_do_you_see.wav", np.concatenate(turn))


if __name__ == "__main__":
    main()
