"""The deaf-microphone test case: what the linear canceller 'takes out' of a user's word when the
microphone never heard the speaker."""
import numpy as np, sys
sys.path.insert(0, "tests")
from test_echo import ears, speak
from edgeai.synthetic.speech import Synthesizer, PiperStyle
from edgeai.messages import WakeDetected, StopWordHeard
from pathlib import Path
voice = next(Path(".cache/test-models/piper-en-us-joe-medium").glob("*.onnx"))
reply = Synthesizer(voice).speak("It is twenty past three in the afternoon, and the sun will set at six.", PiperStyle(1.0, 0.0, 0.0))
for at in (0.0, 0.2, 0.5):
    word = speak("Hey Jarvis."); mic = np.zeros(len(reply), np.int16); s = int(at * 16000); mic[s:s + len(word)] = word
    listener = ears(); echo = listener.echo; own = listener.own_words
    said = own.said
    def rec(name): r = said(name); print(f"  at {at}: {name} own-check score {own.last_score:.3f} -> {r}; delay {echo.delay_s}"); return r
    own.said = rec
    te, me = 0.0, 0.0
    for k in range(0, len(mic) - 320 + 1, 320):
        echo.reference.push(reply[k:k + 320])
        ev = listener.push(mic[k:k + 320])
        if echo.echo_taken is not None and k < s + len(word):
            te += float(np.sum(echo.echo_taken.astype(float) ** 2)); me += float(np.sum(mic[k:k+320].astype(float) ** 2))
        for e in ev:
            if isinstance(e, WakeDetected | StopWordHeard): print("  heard", e.name, round(k / 16000, 2))
        listener.phase = type(listener.phase).WAITING
    print(at, "taken/mic over the word", round(10 * np.log10(te / me), 1), "dB")
