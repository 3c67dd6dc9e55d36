"""A second stage for the wake word: below the head's threshold, down to LOW, a detection is
kept only if Whisper (tiny.en, the x86-cpu profile's speech-to-text) hears "jarvis" in the
latest seconds. Offline on bench wake's seed-2026 dev draws (the same functions and seed as
`edgeai bench wake`): in-family and held-out (MBROLA) positives, and an hour of ordinary
speech of each family without the phrase: false rejects and false accepts per hour.

usage: verifier_probe.py HEAD.onnx N_POS NEG_MINUTES OUT.json
(WHISPER=whisper-base-ct2: the catalog's Whisper base instead of tiny.en)"""
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "session-45"))
from head_scores import BLOCK_S, fire_times, frontend, session, trace  # noqa: E402

from faster_whisper import WhisperModel  # noqa: E402

from edgeai.runtime.context import AppContext  # noqa: E402
from edgeai.synthetic import wake_data as wd  # noqa: E402
from edgeai.synthetic.held_out_voices import held_out_split  # noqa: E402
from edgeai.synthetic.speech import Synthesizer  # noqa: E402

head_path, n, minutes, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
THRESHOLD = 0.5152
LOWS = (0.3, 0.2, 0.1, 0.05)
BEFORE_S, AFTER_S = 2.0, 0.3
"""The window Whisper hears: from 2 s before the score's peak to 0.3 s after it."""
JARVIS = re.compile(r"\b(jarvis|jervis|javis|jarvas|jarvi|garvis|charvis)\b", re.I)
app = AppContext(None)
whisper = WhisperModel(str(app.store.require(app.catalog.get(os.environ.get("WHISPER", "whisper-tiny-en-ct2")))), device="cpu",
                       compute_type="int8", cpu_threads=1)
fe = frontend()
head = session(head_path)
silence = fe.silence_embedding
synth = Synthesizer(None)
spent = []


def heard(audio: np.ndarray) -> str:
    started = time.perf_counter()
    segments, _ = whisper.transcribe(audio.astype(np.float32) / 32768, beam_size=5, language="en",
                                     condition_on_previous_text=False, without_timestamps=True)
    text = " ".join(s.text for s in segments).strip()
    spent.append(time.perf_counter() - started)
    return text


def window(audio: np.ndarray, at_s: float) -> np.ndarray:
    a, b = int(max(0.0, at_s - BEFORE_S) * 16000), int(min(len(audio) / 16000, at_s + AFTER_S) * 16000)
    return audio[a:b]


result = {}
for family, split in (("in-family", wd.dev_split), ("held-out", held_out_split)):
    t0 = time.time()
    dev = wd.dev_set(synth, "hey jarvis", n, minutes * 60, 2026, near_miss_count=1, family=split)
    print(family, "set", round(time.time() - t0), "s", flush=True)
    # positives: the first firing near the phrase's end at LOW, and its score
    pos = {low: {"head": 0, "verified": 0} for low in LOWS}
    examples = []
    for p in dev.positives:
        scores = trace(head, fe.features(p.clip).astype(np.float32), silence)
        end = p.end_sample / 16000
        times = (np.arange(len(scores)) + 1) * BLOCK_S
        near = (times >= end - 0.5) & (times <= end + 1.0)
        best = float(scores[near].max()) if near.any() else 0.0
        text = None
        for low in LOWS:
            if best >= THRESHOLD:
                pos[low]["head"] += 1
                pos[low]["verified"] += 1
            elif best >= low:
                if text is None:
                    peak = times[near][np.argmax(scores[near])]
                    text = heard(window(p.clip, peak))
                    examples.append((round(best, 3), text))
                pos[low]["verified"] += bool(JARVIS.search(text))
    # negatives: firings at LOW over the hour
    audio = dev.ordinary
    scores = trace(head, fe.features(audio).astype(np.float32), silence)
    hours = len(audio) / 16000 / 3600
    neg = {}
    texts = {}
    for low in LOWS:
        fires = fire_times(scores, low)
        strong = [t for t in fires if scores[int(round(t / BLOCK_S)) - 1] >= THRESHOLD]
        kept = len(strong)
        for t in fires:
            if scores[int(round(t / BLOCK_S)) - 1] >= THRESHOLD:
                continue
            i = int(round(t / BLOCK_S)) - 1
            peak = (i + int(np.argmax(scores[i : i + int(1.0 / BLOCK_S)])) + 1) * BLOCK_S
            key = round(peak, 2)
            if key not in texts:
                texts[key] = heard(window(audio, peak))
            kept += bool(JARVIS.search(texts[key]))
        neg[low] = {"candidates": len(fires), "head_alone": len(strong), "kept": kept}
    accepted = [texts[k] for k in texts if JARVIS.search(texts[k])]
    result[family] = {"positives": n, "hours": round(hours, 2), "pos": pos, "neg": neg,
                      "pos_examples": examples[:40], "neg_accepted": accepted}
    print(family, "hours", round(hours, 2), "positives heard", pos, "negatives", neg,
          "whisper calls", len(spent), "mean wall s", round(float(np.mean(spent)), 3) if spent else None, flush=True)
    print("  accepted negatives:", accepted[:20], flush=True)
    print("  positive examples:", examples[:15], flush=True)
json.dump(result, open(out, "w"), indent=1)
