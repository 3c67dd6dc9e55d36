"""The talker taken out of the ideal canceller's output, the echo's residue put back at other
depths, or only before / only after the word: the head's best score on the word each way.
usage: echo_diag2.py CACHE.pkl HEAD.onnx TRIAL ...   (hey jarvis trials)
echo_diag3.py does the same with white noise floors added."""
import pickle
import sys

import numpy as np

from head_scores import audio_trace, frontend, load_head

IDEAL_DB = -30.0
"""What bench echo's ideal canceller takes of the echo."""


def parts(trial):
    """(the talker alone, the full echo residue) from the cached microphone and ideal signals:
    ideal = alone + g * (mic - alone), so alone = (ideal - g * mic) / (1 - g)."""
    mic, ideal = trial["mic"].astype(np.float64), trial["ideal"].astype(np.float64)
    g = 10 ** (IDEAL_DB / 20)
    alone = (ideal - g * mic) / (1 - g)
    return alone, mic - alone


def best_on_word(fe, head, audio, at_s):
    scores = audio_trace(fe, head, np.rint(np.clip(audio, -32768, 32767)).astype(np.int16))
    first = int(at_s / 0.08)
    return scores[first : first + 19].max()


if __name__ == "__main__":
    data = pickle.load(open(sys.argv[1], "rb"))
    fe, head = frontend(), load_head(sys.argv[2])
    trials = [t for t in data["word_trials"] if t["name"] == "hey_jarvis"]
    for k in map(int, sys.argv[3:]):
        t, at = trials[k], trials[k]["word_at_s"]
        alone, residue = parts(t)
        start = int(at * 16000)
        before, after = residue.copy(), residue.copy()
        before[start:], after[:start] = 0, 0
        g = 10 ** (IDEAL_DB / 20)
        best = lambda audio: best_on_word(fe, head, audio, at)  # noqa: E731
        print(k, "alone %.3f" % best(alone),
              " ".join(f"res{db}:{best(alone + residue * 10 ** (db / 20)):.3f}" for db in (-20, -30, -40, -50)),
              "before-only(-30) %.3f" % best(alone + before * g), "after-only(-30) %.3f" % best(alone + after * g),
              "rms alone/res dB %.1f" % (20 * np.log10(np.sqrt(np.mean(alone[start:start + 8000] ** 2))
                                                       / np.sqrt(np.mean(residue[start:start + 8000] ** 2)))), flush=True)
