"""The trainer's second-look choice (edgeai/export/wakeword/look_choice.py) for the bundled
hey jarvis head, on the data `edgeai export wakeword-mean` now draws for it: the first member's
dev set (seed 1001, its 480 minutes of ordinary speech as the false-accept budget) and 300
phrases each of SVOX Pico and Kokoro (neither member trained on them; seeds 3001, 3002). The
members' own ONNX files are not kept, so the mean cannot be rebuilt; this is the step the
rebuild would add, on the same merged head. Then the dev set measured with the chosen look.

usage: bundled_look.py OUT.json"""
import dataclasses
import json
import sys
import time
from pathlib import Path

from edgeai.ears.wake.evaluate import evaluate, head_spec
from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.export.wakeword.look_choice import manifest_fields, with_second_look
from edgeai.export.wakeword.recipe import WakeWordRecipe
from edgeai.export.wakeword.trainer import DEV_SEED_OFFSET, FRONTEND, dev_metrics
from edgeai.runtime.context import AppContext
from edgeai.synthetic import wake_data as dataset
from edgeai.synthetic.speech import Synthesizer

started = time.monotonic()
app = AppContext(None)
manifest = json.loads(Path("wakewords/hey_jarvis.json").read_text())
recipes = [WakeWordRecipe.model_validate(member["recipe"]) for member in manifest["mean_of"]]
first = recipes[0]
frontend = WakeFrontend(app.store.require(app.catalog.get(FRONTEND)))
dev = dataset.dev_set(
    Synthesizer(None), first.phrase, first.dev_positives, first.dev_negative_minutes * 60,
    seed=first.seed + DEV_SEED_OFFSET,
)
spec = head_spec("hey_jarvis", Path("wakewords/hey_jarvis.onnx"), manifest["threshold"])
looking, choice = with_second_look(frontend, app.store, app.catalog, spec, recipes, dev.ordinary)
fields = manifest_fields(choice)
print(json.dumps(fields, indent=2), flush=True)
alone = dev_metrics(evaluate(frontend, spec, dev))
with_look = dev_metrics(evaluate(frontend, looking, dev))
result = {**fields, "dev_head_alone": alone, "dev_with_look": with_look,
          "seconds": round(time.monotonic() - started)}
Path(sys.argv[1]).write_text(json.dumps(result, indent=2, default=str) + "\n")
print(json.dumps({"alone": alone, "with_look": with_look}, indent=2, default=str))
