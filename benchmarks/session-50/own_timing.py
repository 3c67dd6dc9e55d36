"""When the playback said the word, against when the microphone's detector found it: for every
detection the own-word check looks at, the head's score on each block of the kept playback
(its age in seconds before the detection) and the measured playback-to-capture delay. Word
trials give the users' words (their distance from the user's word), own replies the echo.

usage: own_timing.py CONFIG.yaml OUT.jsonl CACHE.pkl ...
(caches as benchmarks/session-45/echo_side.py writes them)"""
import json
import sys
from pathlib import Path

from cache_driver import drive_caches
from edgeai.ears.echo import BLOCK_S
from edgeai.ears.listener import build_listener
from edgeai.runtime.context import AppContext

app = AppContext(Path(sys.argv[1]))
profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
out = open(sys.argv[2], "w")


def instrumented(rows: list, tag: dict):
    listener = build_listener(conf, profile, app.store, app.catalog)
    own, echo = listener.own_words, listener.echo
    said = own.said

    def said_and_record(name, delay_s):
        verdict = said(name, delay_s)
        head = next(h for h in own.detector.heads if h.spec.name == name)
        stream = own.detector.frontend.stream()
        blocks = list(own._played)
        ages_scores = [(round((len(blocks) - i - 1) * BLOCK_S, 2), round(head.score(stream.push(b)), 4))
                       for i, b in enumerate(blocks)]
        rows.append(dict(tag, name=name, own_said=bool(verdict), own=round(own.last_score, 4),
                         delay_s=delay_s, threshold=head.spec.threshold, series=ages_scores,
                         mostly_echo=echo.mostly_echo(), relearning=echo.relearning,
                         at_s=round(listener.now_s, 2)))
        return verdict

    own.said = said_and_record
    return listener


drive_caches(sys.argv[3:], instrumented, out)
