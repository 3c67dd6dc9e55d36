"""bench echo's word trials and own replies, built once (cached), heard by several configs.

usage: echo_side.py CACHE.pkl TRIALS OWN_MIN SEED OUT.json NAME=CONFIG.yaml ...
Same audio for every config: hey jarvis / stop during playback (echo +6 dB) through the
runtime canceller and through an ideal 30 dB one; self-triggers over OWN_MIN of own replies
(a room and level kept for 2 minutes, as bench echo's default)."""
import sys, os, json, pickle
from pathlib import Path
import numpy as np
from edgeai.runtime.context import AppContext
from edgeai.bench import echo as be
from edgeai.synthetic.echo import REPLIES, REPLY_STYLES, OWN_LEVELS_DB, during_playback, simulate_echo_path
from edgeai.synthetic.speech import Synthesizer, voiced_span
from edgeai.ears.listener import build_listener

cache, trials, own_min, seed, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
configs = [a.split("=", 1) for a in sys.argv[6:]]

if os.path.exists(cache):
    data = pickle.load(open(cache, "rb"))
else:
    app = AppContext(None)
    profile = app.active_profile()
    synth = Synthesizer(app.store.main_file(app.catalog.get(profile.roles["tts"].model)))
    rng = np.random.default_rng(seed)
    replies = [synth.speak(t, REPLY_STYLES[i % 3]) for i, t in enumerate(REPLIES)]
    words = {n: [synth.speak(t, v) for v in be.TALKERS] for n, t in be.WORDS}
    word_trials = []
    for trial in range(trials):
        path = simulate_echo_path(rng)
        reply = replies[trial % len(replies)]
        before = replies[(trial + 1) % len(replies)]
        earlier = during_playback(before, path, be.ECHO_OVER_TALKER_DB, rng=rng)
        for name, said in words.items():
            word = said[trial % len(said)]
            first, _ = voiced_span(word)
            at_s = float(rng.uniform(be.WORD_FROM_S, len(reply) / 16000 - 1.0))
            mic = during_playback(reply, path, be.ECHO_OVER_TALKER_DB, word, at_s, rng)
            alone = during_playback(np.zeros_like(reply), path, 0.0, word, at_s)
            word_trials.append(dict(name=name, before=before, earlier=earlier, reply=reply, mic=mic,
                                    ideal=be._ideal_cancelling(mic, alone), word_at_s=at_s + first / 16000))
    own = []
    pause = np.zeros(16000, np.int16)
    played_s, index, until = 0.0, 0, 0.0
    while played_s < own_min * 60:
        reply = np.concatenate([replies[index % len(replies)], pause]); index += 1
        if played_s >= until:
            path, level = simulate_echo_path(rng), float(rng.uniform(*OWN_LEVELS_DB)); until = played_s + 120
        own.append((reply, during_playback(reply, path, level, rng=rng)))
        played_s += len(reply) / 16000
    data = dict(word_trials=word_trials, own=own)
    pickle.dump(data, open(cache, "wb"))
    print("cached", len(word_trials), "word trials,", len(own), "own replies", flush=True)

results = {}
for name, config in configs:
    app = AppContext(Path(config))
    profile = app.active_profile()
    conf = {on: app.config.model_copy(update={"echo": app.config.echo.model_copy(update={"enabled": on})}) for on in (True, False)}
    make = lambda on: build_listener(conf[on], profile, app.store, app.catalog)
    hits = {}
    for t in data["word_trials"]:
        ideal = be._heard_by(make(False), t["ideal"], t["name"], t["word_at_s"])
        listener = make(True)
        be._heard(listener, t["earlier"], t["before"])
        start = listener.now_s
        found = [(n, s - start) for n, s in be._heard(listener, t["mic"], t["reply"])]
        h = hits.setdefault(t["name"], {"canceller": 0, "ideal": 0, "n": 0})
        h["canceller"] += be._found(found, t["name"], t["word_at_s"]); h["ideal"] += ideal; h["n"] += 1
    listener = make(True)
    selfs = {}
    for reply, mic in data["own"]:
        for n, _ in be._heard(listener, mic, reply):
            selfs[n] = selfs.get(n, 0) + 1
    results[name] = dict(words=hits, self_triggers=selfs)
    print(name, json.dumps(results[name]), flush=True)
json.dump(results, open(out, "w"), indent=1)
