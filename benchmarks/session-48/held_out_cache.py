"""bench echo's word trials with held-out talkers (MBROLA) instead of the espeak-ng ones, built
and cached by session 45's echo_side.py (no configs scored).

usage: held_out_cache.py CACHE.pkl TRIALS OWN_MIN SEED
"""
import runpy, sys
from pathlib import Path
from edgeai.bench import echo as be
from edgeai.synthetic.held_out_voices import mbrola_voices

be.TALKERS = mbrola_voices()
sys.argv = ["echo_side.py", *sys.argv[1:5], "/dev/null"]
runpy.run_path(str(Path(__file__).parents[1] / "session-45" / "echo_side.py"), run_name="__main__")
