"""CPU per second of audio of the listener's push with nothing playing, echo on and off, three
rounds each (session 48: the stop words' own front end all the time cost 1.7% more)."""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for tests.conftest
import numpy as np
from edgeai.config import Config
from edgeai.device.profiles import Profiles
from edgeai.ears.listener import build_listener, LISTEN_BLOCK_SAMPLES
from edgeai.models.catalog import Catalog
from edgeai.store import ModelStore
from tests.conftest import TEST_MODEL_STORE
catalog = Catalog.load(); profile = Profiles.load(catalog).get("x86-cpu")
audio = (np.random.default_rng(0).standard_normal(16000 * 30) * 100).astype(np.int16)
res = {}
for rnd in range(3):
    for on in (False, True):
        config = Config.model_validate({"models": {"store": str(TEST_MODEL_STORE)}, "echo": {"enabled": on}})
        l = build_listener(config, profile, ModelStore(TEST_MODEL_STORE), catalog)
        t = time.thread_time()
        for s in range(0, len(audio), LISTEN_BLOCK_SAMPLES):
            l.push(audio[s:s+LISTEN_BLOCK_SAMPLES])
        res.setdefault(on, []).append(100 * (time.thread_time() - t) / 30)
print({("echo on" if k else "echo off"): [round(x, 2) for x in v] for k, v in res.items()})
