"""Other settings of speex's residual echo suppressor on bench echo's cached word trials, on the
stop words' path (as the runtime has it) or on every word's (ALL=1: how the hey jarvis head
fared with it). Runs or_probe.py with the suppression patched in.

usage: [ALL=1] speex_res.py CONFIG.yaml ECHO_DB:ACTIVE_DB:NOISE_DB CACHE.pkl ...
(session 48: -40:-15:-3, the runtime's; -40:-6:-3; -40:-15:0)
"""
import os, runpy, sys
from pathlib import Path
from edgeai.ears import echo as ee
from edgeai.ears.speex import SpeexCanceller, Suppression

echo_db, active_db, noise_db = (int(x) for x in sys.argv[2].split(":"))
ee.PLAYBACK_SUPPRESSION = Suppression(echo_db, active_db, noise_db)
if os.environ.get("ALL"):
    process = SpeexCanceller.process
    def every_word(self, near, far):
        _, suppressed = process(self, near, far)
        return suppressed, suppressed
    SpeexCanceller.process = every_word
sys.argv = ["or_probe.py", sys.argv[1], *sys.argv[3:]]
runpy.run_path(str(Path(__file__).with_name("or_probe.py")), run_name="__main__")
