"""Echo cancellation on simulated echo paths (image-source rooms, device delays, a distorting
loudspeaker) of real replies spoken by the Piper voice."""

from __future__ import annotations

import numpy as np
import pytest

from edgeai.audio.reference import EchoReference, TeeSink
from edgeai.audio.sinks import WavSink
from edgeai.config import Config, EchoSettings, WakeWordSettings
from edgeai.device.profiles import Profiles
from edgeai.ears.echo import EchoCanceller, EchoState, OwnWords, clean_recording
from edgeai.ears.listener import LISTEN_BLOCK_SAMPLES, Listener, build_listener
from edgeai.ears.wake.detector import WakeWordDetector
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, WakeFrontend
from edgeai.ears.wake.words import resolve_wake_word
from edgeai.errors import AudioError
from edgeai.messages import StopWordHeard, WakeDetected
from edgeai.models.catalog import Catalog
from edgeai.store import ModelStore
from edgeai.synthetic.echo import during_playback, simulate_echo_path
from edgeai.synthetic.speech import PiperStyle, Synthesizer
from tests.conftest import TEST_MODEL_STORE, silence, speak

REPLY = (
    "Hey Jarvis is my name. I can stop the music, stop the timer, or tell you about the "
    "weather. Jarvis will stop when you say stop."
)
"""A reply holding both words that could wake or stop edgeai."""


@pytest.fixture(scope="module")
def reply(model_store: ModelStore) -> np.ndarray:
    voice = next((TEST_MODEL_STORE / "piper-en-us-joe-medium").glob("*.onnx"))
    return Synthesizer(voice).speak(
        REPLY, PiperStyle(1.0, 0.0, 0.0)
    )  # no noise: the same audio every run


def power(audio: np.ndarray) -> float:
    return float(np.mean(np.asarray(audio, np.float64) ** 2)) + 1e-9


def canceller() -> EchoCanceller:
    return EchoCanceller(EchoReference(), EchoSettings())


def detections(frontend: WakeFrontend, audio: np.ndarray, second_look: bool = True) -> list[str]:
    words = [
        resolve_wake_word(WakeWordSettings(name=name, second_look=second_look))
        for name in ("hey_jarvis", "stop")
    ]
    detector = WakeWordDetector(frontend, words)
    found = []
    for start in range(0, len(audio) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES):
        found += [d.name for d in detector.push(audio[start : start + BLOCK_SAMPLES])]
    return found


@pytest.mark.parametrize("seed,delay_s", [(0, 0.02), (3, 0.2)])
def test_the_echo_is_cancelled_after_two_seconds_and_its_delay_measured(
    reply: np.ndarray, seed: int, delay_s: float
):
    path = simulate_echo_path(np.random.default_rng(seed), delay_s)
    mic = during_playback(reply, path, 6.0)
    echo = canceller()
    cleaned = clean_recording(mic, reply, echo, LISTEN_BLOCK_SAMPLES)  # as the loop reads it
    converged = slice(2 * 16000, len(cleaned))
    erle_db = 10 * np.log10(power(mic[converged]) / power(cleaned[converged]))
    assert erle_db > 15, erle_db
    sound_travels_s = np.argmax(np.abs(path.room.response)) / 16000
    status = echo.status()
    assert status.delay_ms == pytest.approx((delay_s + sound_travels_s) * 1000, abs=10)
    assert status.state is EchoState.CANCELLING and status.erle_db is not None


def heard(listener: Listener, mic: np.ndarray, played: np.ndarray) -> list[str]:
    """Wake and stop words the listener reports while `played` plays and `mic` records, in the
    loop's blocks."""
    assert listener.echo is not None
    words = []
    step = LISTEN_BLOCK_SAMPLES
    for start in range(0, len(mic) - step + 1, step):
        listener.echo.reference.push(played[start : start + step])
        for event in listener.push(mic[start : start + step]):
            if isinstance(event, WakeDetected | StopWordHeard):
                words.append(event.name)
    return words


def ears() -> Listener:
    config = Config.model_validate({"models": {"store": str(TEST_MODEL_STORE)}})
    catalog = Catalog.load()
    profile = Profiles.load(catalog).get("x86-cpu")
    return build_listener(config, profile, ModelStore(TEST_MODEL_STORE), catalog)


@pytest.mark.parametrize("seed", [0, 1])
def test_replies_saying_stop_and_jarvis_do_not_stop_or_wake_edgeai(
    reply: np.ndarray, frontend: WakeFrontend, seed: int
):
    mic = during_playback(reply, simulate_echo_path(np.random.default_rng(seed)), 10.0)
    assert {"hey_jarvis", "stop"} <= set(detections(frontend, mic))  # they would, raw
    assert heard(ears(), mic, reply) == []


def test_the_wake_word_said_under_a_louder_reply_is_heard_through_the_canceller(
    reply: np.ndarray, frontend: WakeFrontend
):
    """To a device that spoke in this room before: its cancellers live as long as it runs."""
    path = simulate_echo_path(np.random.default_rng(0))
    mic = during_playback(reply, path, 6.0, speak("Hey Jarvis."), talker_at_s=3.5)
    # the head alone misses it without cancelling (a second look sometimes catches it)
    assert "hey_jarvis" not in detections(frontend, mic[3 * 16000 :], second_look=False)
    listener = ears()
    assert heard(listener, during_playback(reply, path, 6.0), reply) == []
    assert heard(listener, mic, reply) == ["hey_jarvis"]


def words_heard(echo: EchoCanceller, mic: np.ndarray, played: np.ndarray) -> list[np.ndarray]:
    """What the wake words and what the stop words hear of `mic` while `played` plays."""
    linear, suppressed = [], []
    for start in range(0, len(mic) - LISTEN_BLOCK_SAMPLES + 1, LISTEN_BLOCK_SAMPLES):
        echo.reference.push(played[start : start + LISTEN_BLOCK_SAMPLES])
        echo.clean(mic[start : start + LISTEN_BLOCK_SAMPLES])
        linear.append(echo.for_words)
        suppressed.append(echo.for_words_suppressed)
    return [np.concatenate(linear), np.concatenate(suppressed)]


@pytest.mark.parametrize(
    "text,name,seed,at_s",
    [("Stop.", "stop", 0, 2.5), ("Stop.", "stop", 0, 6.0), ("Hey Jarvis.", "hey_jarvis", 1, 6.0)],
)
def test_a_word_said_under_a_louder_reply_is_heard_through_the_residual_suppressor(
    reply: np.ndarray, frontend: WakeFrontend, text: str, name: str, seed: int, at_s: float
):
    """The linear canceller's residue before the word hides it from the word's head; speex's
    suppressor turns that residue down and leaves the word (the wake words hear either). The
    heads alone: a wake word's second look may catch the word on the linear output too."""
    path = simulate_echo_path(np.random.default_rng(seed))
    earlier = during_playback(reply, path, 6.0)
    mic = during_playback(reply, path, 6.0, speak(text), talker_at_s=at_s)
    echo = canceller()
    words_heard(echo, earlier, reply)
    linear, suppressed = words_heard(echo, mic, reply)
    before = slice(16000, int(at_s * 16000))
    assert power(suppressed[before]) < power(linear[before]) / 1.5  # 2-6 dB less residue
    said = slice(int((at_s - 2.0) * 16000), int((at_s + 1.5) * 16000))
    assert name not in detections(frontend, linear[said], second_look=False)
    assert name in detections(frontend, suppressed[said], second_look=False)
    listener = ears()
    assert heard(listener, earlier, reply) == []
    assert heard(listener, mic, reply) == [name]


def test_with_nothing_playing_every_word_hears_the_microphone_itself():
    echo = canceller()
    block = (np.random.default_rng(0).standard_normal(LISTEN_BLOCK_SAMPLES) * 300).astype(np.int16)
    assert echo.clean(block) is block
    assert echo.for_words is block and echo.for_words_suppressed is block


def own_words(frontend: WakeFrontend) -> OwnWords:
    words = [resolve_wake_word(WakeWordSettings(name=name)) for name in ("hey_jarvis", "stop")]
    return OwnWords(WakeWordDetector(frontend, words), max_delay_s=0.5)


def play(checker: OwnWords, audio: np.ndarray) -> None:
    for start in range(0, len(audio) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES):
        checker.push(audio[start : start + BLOCK_SAMPLES])


def test_own_words_run_the_front_end_only_when_the_microphone_hears_a_word(
    frontend: WakeFrontend,
):
    """The check costs nothing while edgeai plays, and tells its own word from the user's."""
    checker = own_words(frontend)
    assert not checker.said("hey_jarvis", None)  # nothing played: not ours
    play(checker, speak("Hey Jarvis."))
    assert checker.busy_s == 0 and checker.checks == 0
    assert checker.said("hey_jarvis", 0.1) and checker.last_score >= 0.5
    assert not checker.said("stop", 0.1)
    checker = own_words(frontend)
    play(checker, speak("It is twenty past three in the afternoon."))
    assert not checker.said("hey_jarvis", 0.1) and checker.checks == 1 and checker.busy_s > 0
    for _ in range(round(checker.keep_s / 0.08)):  # the playback and its window are over
        checker.push(None)
    assert not checker.said("hey_jarvis", None) and checker.checks == 1


def test_the_users_word_a_moment_after_edgeai_said_it_is_the_users(frontend: WakeFrontend):
    """The echo of a played word reaches the microphone one measured delay later (and its
    detector fires within OWN_LAG_S of that); the same word heard a second later is the
    user's, who may answer "hey Jarvis" with "hey Jarvis"."""
    checker = own_words(frontend)
    play(checker, speak("Hey Jarvis."))
    assert checker.said("hey_jarvis", 0.05)
    play(checker, speak("It is twenty past three."))
    assert not checker.said("hey_jarvis", 0.05) and checker.ignored == 1


def test_a_reply_the_microphone_never_hears_leaves_the_microphone_untouched(reply: np.ndarray):
    """Headphones, a file sink, a muted speaker: nothing to learn from, so nothing is taken."""
    user = np.zeros(len(reply), np.int16)
    said = speak("What time is it?")
    user[3 * 16000 : 3 * 16000 + len(said)] = said
    echo = canceller()
    cleaned = clean_recording(user, reply, echo, BLOCK_SAMPLES)
    found_no_echo = slice(int(2.5 * 16000), len(cleaned))  # four windows of playback
    assert np.array_equal(cleaned[found_no_echo], user[found_no_echo])
    assert echo.status().state is EchoState.NO_ECHO


@pytest.mark.parametrize(
    "text,name,said_at_s",
    [("Hey Jarvis.", "hey_jarvis", at) for at in (0.0, 0.2, 0.5)] + [("Stop.", "stop", 0.2)],
)
def test_a_user_heard_by_a_microphone_deaf_to_the_speaker_is_not_taken_for_an_echo(
    model_store: ModelStore, text: str, name: str, said_at_s: float
):
    """Headphones or a muted speaker, and the user interrupts at once: their words correlate
    with the reply only by chance, which must neither make up a delay nor hold the words back
    as a canceller relearning a room."""
    voice = next((TEST_MODEL_STORE / "piper-en-us-joe-medium").glob("*.onnx"))
    reply = Synthesizer(voice).speak(
        "It is twenty past three in the afternoon, and the sun will set at six.",
        PiperStyle(1.0, 0.0, 0.0),
    )
    word = speak(text)
    mic = np.zeros(len(reply), np.int16)
    start = int(said_at_s * 16000)
    mic[start : start + len(word)] = word
    listener = ears()
    assert heard(listener, mic, reply) == [name]
    assert listener.echo is not None and listener.echo.delay_s is None


def test_without_a_reference_the_microphone_passes_through():
    echo = canceller()
    block = np.random.default_rng(0).integers(-3000, 3000, BLOCK_SAMPLES).astype(np.int16)
    assert echo.clean(block) is block
    assert echo.status().state is EchoState.NO_REFERENCE and echo.status().delay_ms is None
    with pytest.raises(AudioError, match="10 ms"):
        echo.clean(block[:100])


def test_a_reference_that_stops_mid_reply_brings_no_burst_and_no_false_wake(
    reply: np.ndarray, frontend: WakeFrontend
):
    """Barge-in cuts the speaker and its reference at once; the room's tail still rings."""
    cut = 4 * 16000
    path = simulate_echo_path(np.random.default_rng(1))
    played = reply[:cut]
    mic = during_playback(np.concatenate([played, np.zeros(len(reply) - cut, np.int16)]), path, 10)
    cleaned = clean_recording(mic, played, canceller(), BLOCK_SAMPLES)
    after = slice(cut, len(cleaned))
    assert power(cleaned[after]) <= 10 ** (1 / 10) * power(mic[after])  # no more than 1 dB
    assert heard(ears(), mic, played) == []


def test_clocks_drifting_apart_still_converge(reply: np.ndarray):
    """The speaker's clock 300 ppm fast: its echo arrives ever earlier."""
    import soxr

    path = simulate_echo_path(np.random.default_rng(2), 0.1)
    long_reply = np.concatenate([reply, reply])
    mic = during_playback(long_reply, path, 0.0)
    drifted = soxr.resample(mic.astype(np.float32), 16000 * 1.0003, 16000).astype(np.int16)
    echo = canceller()
    cleaned = clean_recording(drifted, long_reply[: len(drifted)], echo, BLOCK_SAMPLES)
    late = slice(len(cleaned) // 2, len(cleaned))
    assert 10 * np.log10(power(drifted[late]) / power(cleaned[late])) > 15
    assert not echo.relearning  # a delay that creeps is the same path, not a new one


def test_words_are_not_trusted_while_the_canceller_relearns_a_new_echo_path(reply: np.ndarray):
    """A device moved, a speaker swapped: the delay moves, the linear filter no longer fits,
    and for RELEARN_S of playback what it passes is mostly the reply's echo."""
    echo = canceller()
    first = 2 * 16000  # the delay is measured within two seconds of playback
    clean_recording(
        during_playback(reply[:first], simulate_echo_path(np.random.default_rng(0), 0.02), 6.0),
        reply[:first],
        echo,
        LISTEN_BLOCK_SAMPLES,
    )
    assert echo.relearning  # nothing learnt yet
    near = simulate_echo_path(np.random.default_rng(0), 0.02)
    clean_recording(during_playback(reply, near, 6.0), reply, echo, LISTEN_BLOCK_SAMPLES)
    assert not echo.relearning and echo.delay_s == pytest.approx(0.02, abs=0.02)
    far = simulate_echo_path(np.random.default_rng(1), 0.2)
    clean_recording(
        during_playback(reply[:first], far, 6.0), reply[:first], echo, LISTEN_BLOCK_SAMPLES
    )
    assert echo.relearning and echo.delay_s == pytest.approx(0.2, abs=0.02)
    clean_recording(during_playback(reply, far, 6.0), reply, echo, LISTEN_BLOCK_SAMPLES)
    assert not echo.relearning


def test_after_a_short_first_reply_the_wake_word_is_heard_once_nothing_plays(reply: np.ndarray):
    """A first reply can end before its canceller has had RELEARN_S of playback: the next
    words during playback are still not trusted, but with nothing playing the microphone
    passes untouched, and the user's wake word is heard (it was ignored until a later reply
    had played long enough: "It is twenty past three." and the device was deaf)."""
    short = reply[: 2 * 16000]
    path = simulate_echo_path(np.random.default_rng(0), 0.02)
    mic = np.concatenate(
        [during_playback(short, path, 6.0), silence(1.5), speak("Hey Jarvis."), silence(1.0)]
    )
    listener = ears()
    assert heard(listener, mic, short) == ["hey_jarvis"]
    assert listener.echo is not None and listener.echo.delay_s is not None
    assert listener.echo.status().state is EchoState.IDLE


def test_a_canceller_whose_filter_fits_another_room_is_relearning_at_once(reply: np.ndarray):
    """The device moved between two replies: before the delay tracker's next window sees it,
    the filter of the old place subtracts an echo that is not there, and its output is louder
    than the microphone."""
    echo = canceller()
    near = simulate_echo_path(np.random.default_rng(0), 0.02)
    clean_recording(during_playback(reply, near, 6.0), reply, echo, LISTEN_BLOCK_SAMPLES)
    assert not echo.relearning
    pause = np.zeros(16000, np.int16)  # between two replies: nothing to learn from
    clean_recording(pause, pause, echo, LISTEN_BLOCK_SAMPLES)
    moved = simulate_echo_path(np.random.default_rng(4), 0.1)
    start, heard = 8000, 8000  # the next reply's second half-second, moved
    mic = during_playback(reply, moved, 6.0)[start : start + heard]
    clean_recording(mic, reply[start : start + heard], echo, LISTEN_BLOCK_SAMPLES)
    assert echo.delay_s == pytest.approx(0.02, abs=0.02)  # the tracker has not seen it yet
    assert echo.relearning


def test_the_delay_line_keeps_only_what_the_longest_delay_needs(reply: np.ndarray):
    """A service cancels for months: the reference kept for the delay line stays as long as the
    longest delay and a block, however much has played."""
    path = simulate_echo_path(np.random.default_rng(0), 0.1)
    echo = canceller()
    for _ in range(3):
        clean_recording(during_playback(reply, path, 0.0), reply, echo, LISTEN_BLOCK_SAMPLES)
    assert len(echo._history) <= int(EchoSettings().max_delay_ms * 16) + 2 * LISTEN_BLOCK_SAMPLES


def test_the_sink_tees_what_it_plays_at_16_khz_and_drops_it_on_a_barge_in(tmp_path):
    reference = EchoReference()
    sink = TeeSink(WavSink(tmp_path / "reply.wav", 22050), reference, 22050)
    sink.write(np.full(22050, 1000, np.int16))
    sink.close()
    assert reference.played_samples == pytest.approx(16000, abs=32)
    taken = reference.take(8000)
    assert taken is not None and abs(int(taken[4000]) - 1000) < 10
    sink = TeeSink(WavSink(tmp_path / "cut.wav", 16000), reference, 16000)
    sink.write(np.full(16000, 1000, np.int16))
    sink.interrupt()
    assert reference.take(10) is None  # nothing will sound any more


def test_a_sink_writing_faster_than_it_plays_drops_the_oldest_reference():
    reference = EchoReference(max_queued_s=1.0)
    reference.push(np.arange(32000, dtype=np.int32).astype(np.int16))
    assert reference.dropped_samples == 16000
    taken = reference.take(2)
    assert taken is not None and list(taken) == [16000, 16001]


def echo_check(tmp_path, config: Config, play_record=None):
    from edgeai.device.host import probe
    from edgeai.doctor import run_checks
    from tests.test_profiles import MACHINES, fake_root

    catalog = Catalog.load()
    facts = probe(fake_root(tmp_path, MACHINES["raspberry-pi-5"]))
    checks = run_checks(config, None, facts, catalog, Profiles.load(catalog), play_record)
    return next(c for c in checks if c.topic == "echo cancellation")


def test_doctor_measures_the_speaker_to_microphone_delay(tmp_path):
    from edgeai.doctor import Level

    path = simulate_echo_path(np.random.default_rng(4), 0.08)
    sound_travels_ms = 1000 * np.argmax(np.abs(path.room.response)) / 16000

    def room(audio: np.ndarray) -> np.ndarray:
        return 0.3 * path.apply(audio)

    check = echo_check(tmp_path, Config(), room)
    assert check.level is Level.OK
    measured_ms = float(check.detail.split("microphone ")[1].split(" ms")[0])
    assert measured_ms == pytest.approx(80 + sound_travels_ms, abs=3)

    deaf = echo_check(tmp_path, Config(), lambda audio: np.zeros(len(audio), np.float32))
    assert deaf.level is Level.WARN and "did not hear the speaker" in deaf.detail


def test_doctor_says_when_echo_cancellation_is_off_or_has_no_reference(tmp_path):
    from edgeai.doctor import Level

    off = echo_check(tmp_path, Config.model_validate({"echo": {"enabled": False}}))
    assert off.level is Level.WARN and "off" in off.detail
    no_card = echo_check(tmp_path, Config())  # the Pi here has no sound card
    assert no_card.level is Level.WARN and "no speaker reference" in no_card.detail


def test_bench_echo_measures_each_thing_with_the_canceller_and_without(model_store: ModelStore):
    from edgeai.bench import echo as bench

    voice = next((TEST_MODEL_STORE / "piper-en-us-joe-medium").glob("*.onnx"))
    catalog = Catalog.load()
    profile = Profiles.load(catalog).get("x86-cpu")

    def make_listener(on: bool) -> Listener:
        config = Config.model_validate(
            {"models": {"store": str(TEST_MODEL_STORE)}, "echo": {"enabled": on}}
        )
        return build_listener(config, profile, ModelStore(TEST_MODEL_STORE), catalog)

    result = bench.bench_echo(
        make_listener, Synthesizer(voice), 1, 0.1, lambda _: None, room_minutes=0.05
    )
    summary = result.summary()
    assert result.erle_db[0] > 10 and summary["delays_found"] == "1/1"
    assert set(result.detected) == set(result.detected_raw) == {"hey_jarvis", "stop"}
    assert {word: len(hits) for word, hits in result.detected_held_out.items()} == {
        "hey_jarvis": 1,
        "stop": 1,
    }
    assert "held-out talkers (MBROLA)" in bench.markdown(summary)
    assert result.own_minutes >= 0.1 and result.cancelling_cpu_percent > 0
    assert result.own_rooms >= 2  # a new room every 0.05 min over 0.1 min of replies
    assert "| self-wakes over" in bench.markdown(summary)


def test_the_live_barge_in_table_keeps_each_talker_family_apart():
    """A held-out talker's interruptions are reported beside the in-family talker's, never
    pooled with them."""
    from edgeai.bench.barge_in import BargeInResult
    from edgeai.bench.barge_in_echo import markdown

    def tried(voice: str, cut: bool, after_s: float) -> BargeInResult:
        return BargeInResult("wake word", voice, "0", cut, after_s)

    table = markdown(
        {
            "in-family": {True: [tried("espeak:en-us+m3", True, 0.05)]},
            "held-out": {True: [tried("espeak:mb-us2", False, 8.0)]},
        }
    )
    assert "| in-family (espeak:en-us+m3) | wake word | on | 1/1 | 50 ms | 50 ms |" in table
    assert "| held-out (espeak:mb-us2) | wake word | on | 0/1 | - | - |" in table
