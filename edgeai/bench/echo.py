"""Barge-in with echo: edgeai's own replies reach the microphone through simulated echo paths
(image-source rooms, the loudspeaker 5-50 cm from the microphone, 20-200 ms of device delay,
soft-clipping distortion), and the listener must still hear the user and never itself.

Measured side by side on the same audio, with the canceller and without it:
- echo return loss enhancement after 2 s of convergence (echo alone, +6 dB);
- "hey jarvis" and "stop" said during playback with the echo 6 dB louder than the talker, by
  espeak-ng talkers (the heads' training family) and, at the same moments in the same rooms,
  by held-out MBROLA talkers (through the canceller only);
- wake and stop words reported over minutes of the device's own replies (levels -10..+10 dB),
  replies that say "stop" and "Jarvis" among them;
- the canceller's CPU time per second of audio at 16 kHz.
The same words are also scored through an ideal canceller, one that takes IDEAL_ERLE_DB of the
echo evenly and leaves the talker untouched: what the wake and stop heads can hear at best
under that much residue, which separates a canceller's shortfall from the heads' own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from edgeai.ears.echo import EchoCanceller, clean_recording
from edgeai.ears.listener import LISTEN_BLOCK_SAMPLES, Listener, Phase
from edgeai.messages import StopWordHeard, WakeDetected
from edgeai.synthetic.echo import (
    OWN_LEVELS_DB,
    REPLIES,
    REPLY_STYLES,
    during_playback,
    simulate_echo_path,
)
from edgeai.synthetic.held_out_voices import mbrola_voices
from edgeai.synthetic.speech import EspeakVoice, Synthesizer, Voice, voiced_span

WORDS = (("hey_jarvis", "Hey Jarvis."), ("stop", "Stop."))
TALKERS: tuple[Voice, ...] = (
    EspeakVoice("en-us+m3", 150, 50),
    EspeakVoice("en-gb+f2", 150, 60),
    EspeakVoice("en-us+f3", 170, 45),
)
"""The users: other voices than the device's own (Piper), of the espeak-ng family the heads
were trained on; `held_out_talkers` says the same words in voices no part of edgeai used."""
HELD_OUT_SEED_OFFSET = 1000
"""The held-out talkers' room noise comes from their own generator, so the in-family trials
draw what they drew before the held-out ones came."""
ECHO_OVER_TALKER_DB = 6.0
CONVERGENCE_S = 2.0
WORD_FROM_S = 0.5
"""The user may interrupt from half a second into a reply."""
IDEAL_ERLE_DB = 30.0
"""Above the 25 dB target: the residue an ideal canceller leaves is 24 dB under the talker."""
WORD_FOUND_WITHIN_S = 1.5
"""A detection this long after the word starts is the word's (the phrase itself lasts < 1 s)."""


@dataclass
class EchoBenchResult:
    erle_db: list[float] = field(default_factory=list)
    detected: dict[str, list[bool]] = field(default_factory=dict)
    """Per word: heard through the canceller, one entry per trial."""
    detected_raw: dict[str, list[bool]] = field(default_factory=dict)
    """The same trials with the canceller off."""
    detected_ideal: dict[str, list[bool]] = field(default_factory=dict)
    """The same trials through an ideal canceller (IDEAL_ERLE_DB, the talker untouched)."""
    detected_held_out: dict[str, list[bool]] = field(default_factory=dict)
    """The same rooms, replies and moments, the word said by a held-out talker (MBROLA),
    heard through the canceller."""
    own_minutes: float = 0.0
    own_rooms: int = 0
    """Rooms (each with its loudspeaker level) the own replies were played in."""
    self_triggers: dict[str, int] = field(default_factory=dict)
    self_triggers_raw: dict[str, int] = field(default_factory=dict)
    cancelling_cpu_percent: float = 0.0
    """Canceller CPU time per second of audio while something plays, % of one core."""
    own_words_cpu_percent: float = 0.0
    """The wake detector run on the playback (own words), % of one core while something plays,
    in the word trials."""
    own_replies_own_words_cpu_percent: float = 0.0
    """The same over the own replies, where the microphone's detector fires most."""
    own_words_checks: int = 0
    """Own-word checks over the own replies (one per word the microphone's detector found)."""
    own_check_ms: float = 0.0
    """CPU time of one check: what a word heard during playback waits for it."""
    idle_block_us: float = 0.0
    """What the canceller costs per 80 ms block when nothing plays."""
    delays_ms: list[tuple[float, float | None]] = field(default_factory=list)
    """(device delay plus sound travel, measured) per path."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def summary(self) -> dict[str, object]:
        def rate(hits: list[bool]) -> float | None:
            return sum(hits) / len(hits) if hits else None

        errors = [abs(a - m) for a, m in self.delays_ms if m is not None]
        return {
            "erle_db_p50": float(np.median(self.erle_db)) if self.erle_db else None,
            "erle_db_min": min(self.erle_db) if self.erle_db else None,
            "erle_trials": len(self.erle_db),
            "detection": {word: rate(hits) for word, hits in self.detected.items()},
            "detection_raw": {word: rate(hits) for word, hits in self.detected_raw.items()},
            "detection_ideal": {word: rate(hits) for word, hits in self.detected_ideal.items()},
            "detection_held_out": {
                word: rate(hits) for word, hits in self.detected_held_out.items()
            },
            "trials_per_word": {word: len(hits) for word, hits in self.detected.items()},
            "own_minutes": self.own_minutes,
            "own_rooms": self.own_rooms,
            "self_triggers": self.self_triggers,
            "self_triggers_raw": self.self_triggers_raw,
            "cancelling_cpu_percent": self.cancelling_cpu_percent,
            "own_words_cpu_percent": self.own_words_cpu_percent,
            "own_replies_own_words_cpu_percent": self.own_replies_own_words_cpu_percent,
            "own_words_checks": self.own_words_checks,
            "own_check_ms": self.own_check_ms,
            "idle_block_us": self.idle_block_us,
            "delay_error_ms_max": round(max(errors), 1) if errors else None,
            "delays_found": f"{len(errors)}/{len(self.delays_ms)}",
        }


def bench_echo(
    make_listener: Callable[[bool], Listener],
    synth: Synthesizer,
    trials: int,
    own_minutes: float,
    progress: Callable[[str], object],
    seed: int = 25,
    *,
    room_minutes: float,
) -> EchoBenchResult:
    """`make_listener(echo)` gives a fresh listener with the canceller on or off; the own
    replies change room and loudspeaker level every `room_minutes` (0: every reply)."""
    rng = np.random.default_rng(seed)
    held_out_rng = np.random.default_rng(seed + HELD_OUT_SEED_OFFSET)
    result = EchoBenchResult()
    replies = [synth.speak(text, REPLY_STYLES[i % 3]) for i, text in enumerate(REPLIES)]
    words = {name: [synth.speak(text, voice) for voice in TALKERS] for name, text in WORDS}
    held_out = {name: [synth.speak(text, v) for v in mbrola_voices()] for name, text in WORDS}
    cancelling_s = busy_s = own_busy_s = 0.0
    for trial in range(trials):
        progress(f"trial {trial + 1}/{trials}")
        path = simulate_echo_path(rng)
        reply = replies[trial % len(replies)]
        # ERLE: the echo alone
        mic = during_playback(reply, path, ECHO_OVER_TALKER_DB, rng=rng)
        listener = make_listener(True)
        assert listener.echo is not None
        cleaned = clean_recording(mic, reply, listener.echo, LISTEN_BLOCK_SAMPLES)
        late = slice(int(CONVERGENCE_S * 16000), len(cleaned))
        result.erle_db.append(_db(mic[late]) - _db(cleaned[late]))
        sound_travels_s = float(np.argmax(np.abs(path.room.response))) / 16000
        result.delays_ms.append(
            (1000 * (path.delay_s + sound_travels_s), listener.echo.status().delay_ms)
        )
        # a word said during playback, echo +6 dB, to a device that has spoken in this room
        # before (its canceller lives as long as the service)
        before = replies[(trial + 1) % len(replies)]
        earlier = during_playback(before, path, ECHO_OVER_TALKER_DB, rng=rng)
        for name, said in words.items():
            word = said[trial % len(said)]
            first, _ = voiced_span(word)
            at_s = float(rng.uniform(WORD_FROM_S, len(reply) / 16000 - 1.0))
            mic = during_playback(reply, path, ECHO_OVER_TALKER_DB, word, at_s, rng)
            word_at_s = at_s + first / 16000
            alone = during_playback(np.zeros_like(reply), path, 0.0, word, at_s)
            ideal = _heard_by(make_listener(False), _ideal_cancelling(mic, alone), name, word_at_s)
            result.detected_ideal.setdefault(name, []).append(ideal)
            for echo, hits in ((True, result.detected), (False, result.detected_raw)):
                listener = make_listener(echo)
                found, (canceller_s, own_s) = _heard_after(listener, (earlier, before), mic, reply)
                hits.setdefault(name, []).append(_found(found, name, word_at_s))
                if listener.echo is not None:
                    cancelling_s += len(mic) / 16000
                    busy_s += canceller_s
                    own_busy_s += own_s
            other = held_out[name][trial % len(held_out[name])]
            other_at_s = at_s + first / 16000 - voiced_span(other)[0] / 16000
            mic = during_playback(reply, path, ECHO_OVER_TALKER_DB, other, other_at_s, held_out_rng)
            found, _ = _heard_after(make_listener(True), (earlier, before), mic, reply)
            result.detected_held_out.setdefault(name, []).append(_found(found, name, word_at_s))
    result.cancelling_cpu_percent = 100 * busy_s / max(cancelling_s, 1e-9)
    result.own_words_cpu_percent = 100 * own_busy_s / max(cancelling_s, 1e-9)
    _own_replies(make_listener, replies, own_minutes, room_minutes, rng, result, progress)
    result.idle_block_us = _idle_cost(make_listener(True))
    return result


def _heard_after(
    listener: Listener,
    earlier: tuple[np.ndarray, np.ndarray],
    mic: np.ndarray,
    played: np.ndarray,
) -> tuple[list[tuple[str, float]], tuple[float, float]]:
    """The listener first hears `earlier` (microphone, playback: a reply in the same room),
    then `mic` while `played` plays: the words reported then (name, seconds into `mic`) and
    the CPU seconds its canceller and own-word check spent on `mic` alone."""
    _heard(listener, *earlier)
    start_s, busy_before = listener.now_s, _busy(listener)
    found = [(n, t - start_s) for n, t in _heard(listener, mic, played)]
    busy = _busy(listener)
    return found, (busy[0] - busy_before[0], busy[1] - busy_before[1])


def _busy(listener: Listener) -> tuple[float, float]:
    """CPU seconds the listener's canceller and own-word check have spent so far."""
    canceller = listener.echo.busy_s if listener.echo is not None else 0.0
    own = listener.own_words.busy_s if listener.own_words is not None else 0.0
    return canceller, own


def _own_replies(
    make_listener: Callable[[bool], Listener],
    replies: list[np.ndarray],
    minutes: float,
    room_minutes: float,
    rng: np.random.Generator,
    result: EchoBenchResult,
    progress: Callable[[str], object],
) -> None:
    """The device's own replies, one after another, a new room and level every `room_minutes`
    (every reply at 0), to one listener with the canceller and one without: every wake or
    stop word reported is a fault."""
    listeners = {True: make_listener(True), False: make_listener(False)}
    counts: dict[bool, dict[str, int]] = {True: {}, False: {}}
    pause = np.zeros(16000, np.int16)
    played_s = 0.0
    index = 0
    room_until_s = 0.0
    while played_s < minutes * 60:
        progress(f"own replies {played_s / 60:.1f}/{minutes:g} min")
        reply = np.concatenate([replies[index % len(replies)], pause])
        index += 1
        if played_s >= room_until_s:
            path, level = simulate_echo_path(rng), float(rng.uniform(*OWN_LEVELS_DB))
            room_until_s = played_s + room_minutes * 60
            result.own_rooms += 1
        mic = during_playback(reply, path, level, rng=rng)
        for echo, listener in listeners.items():
            for name, _ in _heard(listener, mic, reply):
                counts[echo][name] = counts[echo].get(name, 0) + 1
        played_s += len(reply) / 16000
    result.own_minutes = played_s / 60
    result.self_triggers, result.self_triggers_raw = counts[True], counts[False]
    own = listeners[True].own_words
    if own is not None and own.checks:
        result.own_words_checks = own.checks
        result.own_check_ms = 1000 * own.busy_s / own.checks
        result.own_replies_own_words_cpu_percent = 100 * own.busy_s / played_s


def _found(found: list[tuple[str, float]], name: str, word_at_s: float) -> bool:
    """Whether `name` was reported for the word said at `word_at_s` (times from the start)."""
    return any(n == name and 0 <= t - word_at_s <= WORD_FOUND_WITHIN_S for n, t in found)


def _ideal_cancelling(mic: np.ndarray, talker_alone: np.ndarray) -> np.ndarray:
    """`mic` with everything but the talker (echo, room noise) IDEAL_ERLE_DB quieter."""
    rest = (mic.astype(np.float64) - talker_alone) * 10 ** (-IDEAL_ERLE_DB / 20)
    return np.asarray(np.rint(talker_alone + rest), np.int16)


def _heard_by(listener: Listener, audio: np.ndarray, name: str, word_at_s: float) -> bool:
    """Whether a listener without a canceller reports `name` in `audio` for the word."""
    return _found(_heard(listener, audio, None), name, word_at_s)


def _heard(
    listener: Listener, mic: np.ndarray, played: np.ndarray | None
) -> list[tuple[str, float]]:
    """Wake and stop words the listener reports (name, its stream time); it stays waiting for
    the wake word (nobody asks anything here), as it does while edgeai speaks."""
    found = []
    step = LISTEN_BLOCK_SAMPLES  # as the loop reads the microphone
    for start in range(0, len(mic) - step + 1, step):
        if listener.echo is not None and played is not None:
            listener.echo.reference.push(played[start : start + step])
        for event in listener.push(mic[start : start + step]):
            if isinstance(event, WakeDetected | StopWordHeard):
                found.append((event.name, event.at_s))
        listener.phase = Phase.WAITING  # no utterance follows: the next word counts too
    return found


def _idle_cost(listener: Listener, blocks: int = 200) -> float:
    """Microseconds per block of the loop the canceller costs while nothing plays."""
    echo: EchoCanceller | None = listener.echo
    assert echo is not None
    block = np.zeros(LISTEN_BLOCK_SAMPLES, np.int16)
    started = time.perf_counter()
    for _ in range(blocks):
        echo.clean(block)
    return 1e6 * (time.perf_counter() - started) / blocks


def _db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(audio, np.float64) ** 2) + 1e-9))


def markdown(summary: dict[str, object]) -> str:
    s = summary

    def pct(value: object) -> str:
        return "-" if value is None else f"{100 * float(value):.0f}%"  # type: ignore[arg-type]

    detection: dict[str, float | None] = s["detection"]  # type: ignore[assignment]
    raw: dict[str, float | None] = s["detection_raw"]  # type: ignore[assignment]
    trials: dict[str, int] = s["trials_per_word"]  # type: ignore[assignment]
    lines = [
        "### Barge-in with echo (simulated rooms, edgeai's own Piper replies)",
        "",
        "| measure | with the canceller | without | target |",
        "| --- | --- | --- | --- |",
        f"| ERLE after {CONVERGENCE_S:g} s, p50 (min) over {s['erle_trials']} echo paths | "
        f"{s['erle_db_p50']:.1f} dB ({s['erle_db_min']:.1f}) | 0 dB | >= 25 dB |",
    ]
    for word, rate in detection.items():
        lines.append(
            f"| {word} heard during playback, echo +{ECHO_OVER_TALKER_DB:g} dB "
            f"({trials[word]} trials) | {pct(rate)} | {pct(raw[word])} | >= 90% |"
        )
    held_out: dict[str, float | None] = s.get("detection_held_out", {})  # type: ignore[assignment]
    for word, rate in held_out.items():
        lines.append(
            f"| {word} heard during playback, held-out talkers (MBROLA), echo "
            f"+{ECHO_OVER_TALKER_DB:g} dB | {pct(rate)} | - | >= 90% |"
        )
    ideal: dict[str, float | None] = s.get("detection_ideal", {})  # type: ignore[assignment]
    for word, rate in ideal.items():
        lines.append(
            f"| {word} heard through an ideal canceller ({IDEAL_ERLE_DB:g} dB, the talker "
            f"untouched): the heads' ceiling | {pct(rate)} | - | - |"
        )
    own: dict[str, int] = s["self_triggers"]  # type: ignore[assignment]
    own_raw: dict[str, int] = s["self_triggers_raw"]  # type: ignore[assignment]
    for word in ("hey_jarvis", "stop"):
        lines.append(
            f"| self-{'wakes' if word == 'hey_jarvis' else 'stops'} over "
            f"{s['own_minutes']:.1f} min of own replies in {s.get('own_rooms', 0)} rooms | "
            f"{own.get(word, 0)} | "
            f"{own_raw.get(word, 0)} | 0 |"
        )
    lines += [
        f"| canceller CPU while playing, % of one core | {s['cancelling_cpu_percent']:.1f}% "
        f"(+ {s['own_words_cpu_percent']:.1f}% own-word check; "
        f"{s.get('own_replies_own_words_cpu_percent', 0.0):.2f}% over the own replies) | - "
        "| <= 5% |",
        f"| own-word checks over the own replies (CPU per check: what a word heard during "
        f"playback waits) | {s.get('own_words_checks', 0)} ({s.get('own_check_ms', 0.0):.0f} ms) "
        "| - | - |",
        f"| canceller cost per {LISTEN_BLOCK_SAMPLES // 16} ms block, nothing playing | "
        f"{s['idle_block_us']:.1f} us "
        "| - | no change |",
        f"| delay found (max error) | {s['delays_found']} ({s['delay_error_ms_max']} ms) | - | - |",
    ]
    return "\n".join(lines) + "\n"
