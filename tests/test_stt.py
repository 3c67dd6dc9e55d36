"""Speech-to-text that knows the device's commands: the n-best hypotheses of a beam search,
of which a complete local command is preferred within a score margin."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator

import numpy as np
import pytest

from edgeai.intents.grammar import load_grammar
from edgeai.voice.stt import Transcript, as_heard, faster_whisper, rivals_of, score_of
from edgeai.voice.stt.faster_whisper import (
    COMMAND_MARGIN,
    FasterWhisperSTT,
    Hypothesis,
    preferring_commands,
)
from tests.conftest import TEST_MODEL_STORE, silence, speak

GRAMMAR = load_grammar(zones=("front_door",))


def test_a_command_close_behind_the_best_hypothesis_is_preferred_to_a_best_that_is_none():
    best, command = Hypothesis("Volume to salmon.", -0.40), Hypothesis("Volume to 7.", -0.55)
    assert preferring_commands([best, command], GRAMMAR.is_command) == command
    far = Hypothesis("Volume to 7.", best.score - COMMAND_MARGIN - 0.01)
    assert preferring_commands([best, far], GRAMMAR.is_command) == best
    assert preferring_commands([best, command], None) == best  # no grammar: Whisper's best


def test_a_best_hypothesis_that_is_a_command_or_a_free_request_stays_whisper_s_best():
    command = Hypothesis("What time is it?", -0.3)
    assert preferring_commands(
        [command, Hypothesis("Set a timer.", -0.31)], GRAMMAR.is_command
    ) == (command)
    story = Hypothesis("Tell me a story about a dragon.", -0.2)
    others = [story, Hypothesis("Tell me a story about a dragon", -0.25)]
    assert preferring_commands(others, GRAMMAR.is_command) == story


def test_a_command_is_a_whole_match_whose_free_slots_say_what_they_should():
    assert GRAMMAR.is_command("Volume to 7.")
    assert GRAMMAR.is_command("set a timer for five minutes")
    assert not GRAMMAR.is_command("Volume to salmon.")  # a level that is no number
    assert not GRAMMAR.is_command("set a timer for the pasta")  # a duration that says no time
    assert not GRAMMAR.is_command("tell me a story about a dragon")


@pytest.fixture(scope="module")
def stt_pair(model_store) -> tuple[FasterWhisperSTT, FasterWhisperSTT]:
    """tiny.en prompted with the configured beam: Whisper's best, and preferring commands."""
    from edgeai.config import Config

    prompt, wide = GRAMMAR.stt_prompt(), Config().voice.stt_hypotheses
    model = TEST_MODEL_STORE / "whisper-tiny-en-ct2"
    return (
        FasterWhisperSTT(model, 2, None, prompt, hypotheses=wide),
        FasterWhisperSTT(model, 2, None, prompt, hypotheses=wide, is_command=GRAMMAR.is_command),
    )


@pytest.mark.parametrize(
    ("said", "voice", "words_per_minute"),
    [
        ("volume to 7", "en-us+m3", 160),  # Whisper's best, 5-wide beam: "Volume to salmon."
        ("softer please", "en-us+m3", 160),  # "Software please." (10-wide: "Soft or clean?")
        ("what is today's date", "en-gb+f2", 150),  # "What is today's made?"
    ],
)
def test_the_commands_grammar_corrects_what_whisper_s_best_hypothesis_mishears(
    stt_pair, said: str, voice: str, words_per_minute: int
):
    whisper_best, commands = stt_pair
    clip = np.concatenate([silence(0.3), speak(said, voice, words_per_minute), silence(0.5)])
    best = whisper_best.transcribe(clip)
    assert GRAMMAR.match(best) != GRAMMAR.match(said)
    heard = commands.transcribe(clip)
    assert GRAMMAR.match(heard) == GRAMMAR.match(said)
    # the choice keeps what Whisper heard: the endpoint judges a pause on that, not the choice
    assert isinstance(heard, Transcript) and as_heard(heard) == best
    for copied in (copy.deepcopy(heard), pickle.loads(pickle.dumps(heard))):
        assert copied == heard and as_heard(copied) == best  # asdict deep-copies timelines
        assert rivals_of(copied) == rivals_of(heard)
    assert GRAMMAR.match(said) is not None


def test_free_requests_and_silence_are_not_turned_into_commands(stt_pair):
    _, commands = stt_pair
    for said in ("tell me a story about a dragon", "why is the sky blue"):
        heard = commands.transcribe(np.concatenate([silence(0.3), speak(said), silence(0.5)]))
        assert GRAMMAR.match(heard) is None, heard
        assert "sky" in heard.lower() or "dragon" in heard.lower()
    rng = np.random.default_rng(0)
    for quiet_or_noise in (silence(2.0), rng.normal(0, 300, 32000), rng.normal(0, 3000, 32000)):
        assert commands.transcribe(quiet_or_noise.astype(np.int16)) == ""


def test_whisper_s_score_at_a_pause_sets_a_cut_word_apart_from_a_whole_request(model_store):
    """At a pause after "give me a", Whisper (as x86-cpu runs it: prompted, the 10 s window,
    the configured beam) hears a whole sentence ("Give me aye") that neither the word lists nor
    its rivals hold open, but scores it under vad.doubtful_log_probability: the pause waits the
    doubtful silence. A whole request stays above it and keeps the trailing one."""
    from edgeai.config import Config
    from edgeai.messages import EndpointReason
    from edgeai.voice.endpointing import Verdict, doubted, judge_pause

    config = Config()
    commands = FasterWhisperSTT(
        TEST_MODEL_STORE / "whisper-tiny-en-ct2", 2, 10.0, GRAMMAR.stt_prompt(),
        config.voice.stt_hypotheses, GRAMMAR.is_command,
    )  # fmt: skip
    settings = config.vad
    assert settings.doubtful_log_probability is not None
    left = Verdict(EndpointReason.SILENCE, settings.trailing_silence_ms)
    reasons = {}
    for said in ("give me a", "how far away is the moon"):
        clip = np.concatenate([silence(0.3), speak(said, "en-gb+f2", 160), silence(0.1)])
        heard = commands.transcribe(clip)
        score = score_of(heard)
        assert score is not None and score < 0, heard
        assert judge_pause(heard, GRAMMAR, settings) == left, heard
        for copied in (copy.deepcopy(heard), pickle.loads(pickle.dumps(heard))):
            assert score_of(copied) == score
        reasons[said] = doubted(heard, left, GRAMMAR, settings, None).reason
        # the same words without Whisper's score keep the trailing silence: the score decided
        unscored = Transcript(heard, as_heard(heard), rivals_of(heard))
        assert doubted(unscored, left, GRAMMAR, settings, None) == left
    assert reasons == {
        "give me a": EndpointReason.DOUBTFUL,
        "how far away is the moon": EndpointReason.SILENCE,
    }


def test_the_short_window_says_a_prompted_request_once(model_store, monkeypatch):
    """Prompted tiny.en in a 10 s window said this request twice; the repetition penalty that
    windows under 30 s decode with stops it."""
    stt = FasterWhisperSTT(
        TEST_MODEL_STORE / "whisper-tiny-en-ct2", 2, 10.0, GRAMMAR.stt_prompt(), 5,
        GRAMMAR.is_command,
    )  # fmt: skip
    clip = np.concatenate(
        [silence(0.3), speak("How do I boil an egg?", "en-us+m3", 160), silence(0.5)]
    )
    heard = stt.transcribe(clip)
    assert heard.lower().count("egg") == 1, heard
    assert "boil" in heard.lower()
    monkeypatch.setattr(faster_whisper, "SHORT_WINDOW_REPETITION_PENALTY", 1.0)
    assert stt.transcribe(clip).lower().count("egg") == 2  # the clip shows the repetition


class _Says:
    """A transcriber that hears the same words in every clip."""

    def __init__(self, text: str) -> None:
        self.text = text

    def transcribe(self, audio: np.ndarray) -> str:
        return self.text

    def warm_up(self) -> None:
        pass

    def segments(self, audio: np.ndarray) -> Iterator[str]:
        yield self.text


def test_bench_stt_reports_in_family_and_held_out_side_by_side_with_the_ratio(model_store):
    from edgeai.bench import stt as bench
    from edgeai.synthetic.speech import Synthesizer

    synth = Synthesizer(TEST_MODEL_STORE / "piper-en-us-joe-medium" / "en_US-joe-medium.onnx")
    phrases = [("what time is it", "time", None), ("why is the sky blue", "llm", None)]
    variants = [
        bench.Variant("half right", _Says("what time is it")),
        bench.Variant("deaf", _Says("")),
    ]
    heard = bench.bench_stt(variants, GRAMMAR, synth, phrases, lambda: None)
    totals = bench.summary(heard)
    voices = {"in-family": len(bench.IN_FAMILY), "held-out": len(bench.HELD_OUT)}
    for family, count in voices.items():
        assert totals["half right"][family]["clips"] == 2 * count
        assert totals["half right"][family]["word_error_rate"] == pytest.approx(5 / 9)
        assert totals["half right"][family]["routed_right"] == 0.5
        assert totals["deaf"][family]["word_error_rate"] == 1.0
    table = bench.markdown(totals)
    assert "| half right | 55.6% | 55.6% | 1.00× |" in table
    assert "| deaf | 100.0% | 100.0% | 1.80× |" in table


def test_the_service_s_speech_to_text_decodes_the_configured_n_best(voice_models):
    from edgeai.config import Config

    assert isinstance(voice_models.stt, FasterWhisperSTT)
    assert voice_models.stt.hypotheses == Config().voice.stt_hypotheses == 10
    heard = voice_models.stt.transcribe(
        np.concatenate([silence(0.3), speak("volume to 7", "en-us+m3", 160), silence(0.5)])
    )
    assert GRAMMAR.match(heard) == GRAMMAR.match("volume to 7")


def test_bench_stt_runs_a_tiny_variant_per_n_best_and_base_unless_told_not(model_store, tmp_path):
    import json

    from click.testing import CliRunner

    from edgeai.cli.main import cli

    config = tmp_path / "edgeai.yaml"
    config.write_text(f"models:\n  store: {TEST_MODEL_STORE}\nprofile: x86-cpu\n")
    phrases = tmp_path / "phrases.yaml"
    phrases.write_text("time:\n  - What time is it?\n")
    out = tmp_path / "bench"
    result = CliRunner().invoke(
        cli, ["--config", str(config), "bench", "stt", "--out", str(out), "--phrases",
              str(phrases), "--every", "1", "--n-best", "3", "--no-base"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "stt.json").read_text())["summary"]
    assert list(summary) == ["tiny.en", "tiny.en prompted", "tiny.en prompted, 3-best commands"]
    assert summary["tiny.en prompted, 3-best commands"]["held-out"]["clips"] == 4
    assert "| tiny.en prompted, 3-best commands |" in (out / "stt.md").read_text()
