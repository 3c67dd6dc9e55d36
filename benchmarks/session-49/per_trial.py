"""Which of bench echo's cached word trials the runtime listener hears (one letter a trial: p
heard, - missed), per word, and the gates' log lines of the missed ones.

usage: per_trial.py CONFIG.yaml CACHE.pkl ..."""
import logging
import pickle
import sys
from pathlib import Path

from edgeai.bench import echo as be
from edgeai.ears.listener import build_listener
from edgeai.runtime.context import AppContext


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


lines = Lines()
logging.getLogger("edgeai.ears.listener").addHandler(lines)
logging.getLogger("edgeai.ears.listener").setLevel(logging.INFO)
app = AppContext(Path(sys.argv[1]))
profile = app.active_profile()
conf = app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": True})})
for cache in sys.argv[2:]:
    d = pickle.load(open(cache, "rb"))
    marks: dict[str, str] = {}
    for i, t in enumerate(d["word_trials"]):
        listener = build_listener(conf, profile, app.store, app.catalog)
        be._heard(listener, t["earlier"], t["before"])
        start = listener.now_s
        lines.lines.clear()
        found = [(n, s - start) for n, s in be._heard(listener, t["mic"], t["reply"])]
        got = be._found(found, t["name"], t["word_at_s"])
        marks[t["name"]] = marks.get(t["name"], "") + ("p" if got else "-")
        if not got:
            print(f"  {cache} trial {i} {t['name']} missed; found {found}; {lines.lines}", flush=True)
    print(cache, {n: f"{m.count('p')} {m}" for n, m in marks.items()}, flush=True)
