"""Every word the runtime listener's detectors find during playback (before the own-word, mostly-
echo and relearning checks), with what the canceller knew at that moment: which output it was
found on (linear / suppressed), its score, the playback's own-word score, and over the latest
0.5 s and 1 s the linear output against the microphone and speex's suppressed output against the
linear one. Word trials say how far the detection is from the user's word; own replies are all
self-triggers if they pass the checks.

usage: features.py CONFIG.yaml OUT.jsonl CACHE.pkl ...
(caches as benchmarks/session-45/echo_side.py writes them: word_trials and/or own)"""
import json
import sys
from collections import deque
from pathlib import Path

import numpy as np

from edgeai.ears.listener import build_listener
from edgeai.runtime.context import AppContext

sys.path.insert(0, str(Path(__file__).parents[1] / "session-50"))
from cache_driver import drive_caches  # noqa: E402

app = AppContext(Path(sys.argv[1]))
profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
out = open(sys.argv[2], "w")


def energy(a: np.ndarray) -> float:
    return float(np.sum(a.astype(np.float64) ** 2))


def instrumented(rows: list, tag: dict):
    listener = build_listener(conf, profile, app.store, app.catalog)
    echo, own = listener.echo, listener.own_words
    blocks: deque = deque(maxlen=400)  # (raw, linear, suppressed, playing) per loop block (20 ms)
    estimates: deque = deque(maxlen=250)  # mic minus the linear output: the echo speex took out
    clean, said = echo.clean, own.said
    found_on: dict[str, tuple[str, float]] = {}

    def clean_and_record(block):
        out_block = clean(block)
        playing = echo.last_played is not None
        est = block.astype(np.int32) - echo.for_words.astype(np.int32) if playing else np.zeros(len(block), np.int32)
        estimates.append(np.clip(est, -32768, 32767).astype(np.int16))
        blocks.append((energy(block), energy(echo.for_words), energy(echo.for_words_suppressed), playing, len(block)))
        return out_block

    push_lin, push_sup = listener.detector.push, listener._playback_detector.push

    def lin(block):
        found = push_lin(block)
        for f in found:
            found_on[f.name] = ("lin", f.score)
        return found

    def sup(block, playing):
        found = push_sup(block, playing)
        for f in found:
            found_on.setdefault(f.name, ("sup", f.score))
        return found

    def window(seconds, skip_s=0.0):
        n, raw, li, su = 0, 0.0, 0.0, 0.0
        for r, l_, s, p, k in reversed(blocks):
            if n >= (seconds + skip_s) * 16000:
                break
            n += k
            if n <= skip_s * 16000 or (skip_s and not p):
                continue
            raw, li, su = raw + r, li + l_, su + s
        db = lambda a, b: round(10 * np.log10((a + 1e-3) / (b + 1e-3)), 1)
        return db(li, raw), db(su, li)

    def on_estimate(name):
        head = next(h for h in listener.detector.heads if h.spec.name == name)
        stream = listener.detector.frontend.stream()
        audio = np.concatenate(list(estimates))
        scores, step = [0.0], 1280
        for k in range(0, len(audio) - step + 1, step):
            emb = stream.push(audio[k:k + step])
            if len(audio) - k - step <= 0.5 * 16000:
                scores.append(head.score(emb))
        return round(max(scores), 3)

    def said_and_record(name, *delay_s):
        result = said(name, *delay_s)
        own_est = on_estimate(name)
        source, score = found_on.pop(name, ("?", 0.0))
        l5, s5 = window(0.5)
        l10, s10 = window(1.0)
        base, _ = window(4.0, skip_s=1.5)  # the canceller in this room before the word
        rows.append(dict(tag, name=name, on=source, score=round(float(score), 3), own=round(own.last_score, 3),
                         own_said=bool(result), own_est=own_est, mostly_echo=echo.mostly_echo(), relearning=echo.relearning,
                         lin_raw_05=l5, lin_raw_base=base, sup_lin_05=s5, lin_raw_10=l10, sup_lin_10=s10, at_s=round(listener.now_s, 2)))
        return result

    echo.clean, own.said = clean_and_record, said_and_record
    listener.detector.push, listener._playback_detector.push = lin, sup
    return listener


drive_caches(sys.argv[3:], instrumented, out)
