"""`edgeai bench wake` for the stop word alone (the command also benches every wake word):
the same sets, seed and tables, for the stop head a manifest names.

usage: stop_bench.py STOP.onnx NEG_MINUTES OUT.json   (the manifest STOP.json beside it)"""
import json
import sys
from pathlib import Path

from edgeai.bench.wake import bench_wake
from edgeai.config import WakeWordSettings
from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.ears.wake.words import resolve_wake_word
from edgeai.runtime.context import AppContext

head, minutes, out = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
app = AppContext(None)
profile = app.active_profile()
frontend = WakeFrontend(app.store.require(app.catalog.get(profile.roles["wake"].model)))
vad = app.store.main_file(app.catalog.get(profile.roles["vad"].model))
spec = resolve_wake_word(WakeWordSettings(name="stop", model=head, refractory_s=1.0))
result = bench_wake(frontend, spec, vad, "stop", 300, minutes, 2026, 50)
print(spec.second_look)
print(result.markdown())
json.dump(result.as_dict(), open(out, "w"), indent=1)
