"""The wake word said again in a follow-up window, then a pause, then the request: is the
utterance the listener ends the request (after the wake word), or "hey jarvis" alone ended on
the pause (an empty request: "Sorry, I didn't catch that.", the request said over it lost)?

    python benchmarks/session-49/follow_up_probe.py   # run with PYTHONPATH at the tree to test
"""

import numpy as np

from edgeai.audio.sources import ArraySource
from edgeai.bench.voice import VOICES
from edgeai.messages import SpeechEnded, WakeDetected
from edgeai.synthetic.held_out_voices import mbrola_voices
from edgeai.synthetic.speech import Synthesizer
from tests.test_listen import listener

synth = Synthesizer(None)  # espeak-ng and MBROLA only: Piper needs the store's model
voices = [v for v, _ in VOICES[1:]] + list(mbrola_voices())
counts = {
    "request after the wake word": 0,
    "wake phrase alone": 0,
    "one follow-up utterance": 0,
    "none": 0,
}
for voice in voices:
    wake, request = synth.speak("Hey Jarvis.", voice), synth.speak("What time is it?", voice)
    for pause_s in (0.3, 0.45, 0.6, 0.8):
        gap = np.zeros(int(pause_s * 16000), np.int16)
        lead = np.zeros(16000, np.int16)
        audio = np.concatenate([lead, wake, gap, request, np.zeros(24000, np.int16)])
        request_at_s = (len(lead) + len(wake) + len(gap)) / 16000
        ears = listener()
        ears.follow_up(3.0)
        events = list(ears.run(ArraySource(audio)))
        ended = [e for e in events if isinstance(e, SpeechEnded)]
        woke = any(isinstance(e, WakeDetected) for e in events)
        first = ended[0] if ended else None
        if first is None:
            kind = "none"
        elif first.at_s < request_at_s:
            kind = "wake phrase alone"
        elif woke:
            kind = "request after the wake word"
        else:
            kind = "one follow-up utterance"  # the wake phrase in it, stripped from the transcript
        counts[kind] += 1
        print(f"{voice.label:28s} pause {pause_s:.2f} s: {kind} (woke: {woke})")
print(counts)
