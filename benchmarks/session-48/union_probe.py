"""Probe: the wake words also hear the suppressed output while something plays (either path
fires), on the cached trials. usage: union_probe.py CONFIG CACHE..."""
import runpy, sys
from edgeai.ears import listener as lst
orig = lst.Listener.__init__
def init(self, detector, *a, **k):
    orig(self, detector, *a, **k)
    if self._stop_detector is not None:
        self._stop_detector = lst.PlaybackWords(detector.fresh())
lst.Listener.__init__ = init
sys.argv = ["or_probe.py", *sys.argv[1:]]
runpy.run_path(str(__import__("pathlib").Path(__file__).with_name("or_probe.py")), run_name="__main__")
