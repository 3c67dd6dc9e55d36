"""or_probe.py with every word hearing the linear canceller's output, as before session 48:
the suppressor's output replaced by the linear one (same audio, same heads).

usage: linear_only.py CONFIG.yaml CACHE.pkl ...
"""
import runpy, sys
from pathlib import Path
from edgeai.ears.speex import SpeexCanceller

process = SpeexCanceller.process
def linear_twice(self, near, far):
    linear, _ = process(self, near, far)
    return linear, linear
SpeexCanceller.process = linear_twice
sys.argv = ["or_probe.py", *sys.argv[1:]]
runpy.run_path(str(Path(__file__).with_name("or_probe.py")), run_name="__main__")
