"""Where the canceller's CPU goes: 60 s of a reply's echo through EchoCanceller.clean in 20 ms blocks."""
import cProfile, pstats, sys, time
import numpy as np
from edgeai.audio.reference import EchoReference
from edgeai.config import EchoSettings
from edgeai.ears.echo import EchoCanceller

rng = np.random.default_rng(0)
n = 16000 * 60
ref = (3000 * rng.standard_normal(n)).astype(np.int16)
# crude echo: 60 ms delay, decaying taps
h = np.zeros(1600); h[960] = 0.5; h[1000] = 0.2; h[1200] = -0.1
mic = np.convolve(ref.astype(float), h)[:n] + 30 * rng.standard_normal(n)
mic = np.clip(mic, -32768, 32767).astype(np.int16)
reference = EchoReference(max_queued_s=100)
ec = EchoCanceller(reference, EchoSettings())
B = 320
def run():
    for i in range(0, n, B):
        if i % 16000 == 0:
            reference.push(ref[i:i+16000])
        ec.clean(mic[i:i+B])
t = time.thread_time()
prof = cProfile.Profile()
prof.enable(); run(); prof.disable()
print("busy", ec.busy_s, "pct", 100*ec.busy_s/60, "status", ec.status())
pstats.Stats(prof).sort_stats("tottime").print_stats(15)
