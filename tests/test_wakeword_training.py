"""The wake word trainer and the wake benchmark, on tiny sizes: the mechanics, not the accuracy."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeai.cli.main import cli
from edgeai.config import WakeWordSettings
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, EMBEDDING_WINDOW_FRAMES, MEL_FRAMES_PER_BLOCK
from edgeai.ears.wake.heads import SecondLookSpec, WakeHead, WakeWordSpec
from edgeai.ears.wake.words import resolve_wake_word
from edgeai.errors import EdgeAIError
from edgeai.export.wakeword.recipe import WakeWordRecipe
from edgeai.export.wakeword.train import WINDOW
from edgeai.export.wakeword.trainer import build_wakeword, count_firings
from edgeai.models.catalog import Catalog
from edgeai.synthetic import held_out_voices
from edgeai.synthetic import speech as speech_module
from edgeai.synthetic.echo import REPLIES, echo_residue, rms, simulate_echo_path
from edgeai.synthetic.held_out_voices import CONDITIONS, Condition, held_out_split, on_background
from edgeai.synthetic.kokoro import SPEAKERS as KOKORO_SPEAKERS
from edgeai.synthetic.kokoro import KokoroVoice
from edgeai.synthetic.rooms import DISTANCE_M, in_room, simulate_room
from edgeai.synthetic.speakers import Speaker, as_speaker
from edgeai.synthetic.speech import (
    EspeakVoice,
    PicoVoice,
    PiperStyle,
    Synthesizer,
    espeak_phonemes,
    voiced,
)
from edgeai.synthetic.wake_data import (
    ACCENT_VOWELS,
    QUIET_LEAD_S,
    SPEECH_BEFORE_GAP_S,
    Split,
    Variety,
    accented,
    after_other_speech,
    check_voices,
    hurried,
    jitter,
    make_splits,
    near_misses,
    negatives,
    over_reply,
    place,
    positives,
)
from tests.conftest import REPO, TEST_MODEL_STORE, speak

HEAD_WINDOW_SAMPLES = (
    WINDOW * BLOCK_SAMPLES + EMBEDDING_WINDOW_FRAMES * BLOCK_SAMPLES // MEL_FRAMES_PER_BLOCK
)
"""Audio behind one head score: its embeddings (1.28 s) and the first one's mel frames (0.76 s)."""


def test_a_tiny_training_run_writes_a_loadable_head_and_an_honest_manifest(
    model_store, kokoro_model: Path, tmp_path: Path
):
    recipe = WakeWordRecipe(
        phrase="hey computer", positives=60, negative_minutes=1.0, dev_positives=20,
        dev_negative_minutes=1.0, epochs=3, new_speakers=0.3, rooms=0.3, quiet=0.3,
        talk_over=0.3, echo_residue=0.2, kokoro=0.1, cancelled_talk_over=0.2,
        second_look_positives=8,
    )  # fmt: skip
    manifest = build_wakeword(recipe, model_store, Catalog.load(), tmp_path)

    head, written = tmp_path / "hey_computer.onnx", tmp_path / "hey_computer.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hey_computer.json", "hey_computer.onnx"]
    assert json.loads(written.read_text()) == manifest
    assert WakeHead(WakeWordSpec("hey_computer", head, 0.5, 2.0)).window == 16
    dev = manifest["dev"]
    assert isinstance(dev, dict)
    assert dev["positives"] == 20
    assert 0 <= dev["false_reject_rate"] <= 1
    assert dev["negative_hours"] > 1 / 60
    assert 0.2 <= manifest["threshold"] <= 0.95
    # the second look is chosen on Pico's phrases (Kokoro trained the head) and loads as set
    tuning = manifest["second_look_tuning"]
    assert isinstance(tuning, dict)
    assert (tuning["families"], tuning["positives"]) == (["SVOX Pico"], 8)
    assert tuning["misses"] <= tuning["misses_alone"]
    loaded = resolve_wake_word(WakeWordSettings(name="hey_computer", model=head))
    look = manifest.get("second_look")
    assert loaded.second_look == (None if look is None else SecondLookSpec(**look))


def test_mined_averaged_heads_keep_the_dev_false_accepts_the_recipe_allows(
    model_store, tmp_path: Path
):
    """The threshold is chosen on torch scores of the dev stream; the manifest's measure streams
    the exported ONNX through the runtime's detector. They must agree."""
    recipe = WakeWordRecipe(
        phrase="hey computer", positives=60, negative_minutes=1.0, dev_positives=20,
        dev_negative_minutes=2.0, epochs=3, heads=2, mining_minutes=1.0, mining_rounds=1,
        max_false_accepts_per_hour=0, second_look_positives=0,
    )  # fmt: skip
    manifest = build_wakeword(recipe, model_store, Catalog.load(), tmp_path)

    dev = manifest["dev"]
    assert isinstance(dev, dict)
    assert dev["false_accepts"] == 0
    assert 0.2 <= manifest["threshold"] <= 0.999
    assert "false accepts per hour on the dev set" in str(manifest["threshold_rule"])
    assert manifest["recipe"]["heads"] == 2  # type: ignore[index]
    assert not {"second_look", "second_look_rule"} & set(manifest)  # the recipe asked for none


def test_count_firings_counts_detections_the_way_the_detector_does():
    refractory_blocks = 25  # 2 s of 80 ms blocks
    stream = np.zeros(100)
    stream[[3, 4, 10, 27, 28, 60]] = 0.9
    # 3 fires; 4, 10 and 27 fall in its refractory; 28 fires; 60 fires
    assert count_firings(stream, 0.5) == 3
    assert count_firings(stream, 0.95) == 0
    assert count_firings(np.full(refractory_blocks * 4, 0.9), 0.5) == 4


def test_training_and_dev_speakers_stay_apart():
    train, dev = make_splits(np.random.default_rng(0), with_piper=True)
    variants = {
        split.name: {v.voice.split("+")[1] for v in split.voices if isinstance(v, EspeakVoice)}
        for split in (train, dev)
    }
    accents = {
        split.name: {v.voice.split("+")[0] for v in split.voices if isinstance(v, EspeakVoice)}
        for split in (train, dev)
    }
    assert len(variants["train"]) > 50
    assert not variants["train"] & variants["dev"]
    assert not accents["train"] & accents["dev"]
    assert any(isinstance(v, PiperStyle) for v in train.voices)
    assert not any(isinstance(v, PiperStyle) for v in dev.voices)


def test_pico_voices_take_the_recipe_s_share_of_training_and_none_of_dev():
    without, dev_without = make_splits(np.random.default_rng(0), with_piper=True)
    train, dev = make_splits(np.random.default_rng(0), with_piper=True, pico=0.25)
    pico = [v for v in train.voices if isinstance(v, PicoVoice)]
    assert len(pico) / len(train.voices) == pytest.approx(0.25, abs=0.01)
    assert {v.language for v in pico} == {"en-US", "en-GB"}
    assert train.voices[: len(without.voices)] == without.voices
    assert dev == dev_without
    assert not any(isinstance(v, PicoVoice) for v in without.voices)


def test_pico_speaks_the_phrase_faster_and_higher_when_told():
    synth, rng = Synthesizer(None), np.random.default_rng(3)
    slow = voiced(synth.speak("hey jarvis, it is me", PicoVoice("en-GB", 80, 100)))
    fast = voiced(synth.speak("hey jarvis, it is me", PicoVoice("en-GB", 130, 100)))
    assert 0.8 < len(fast) / 16000 < len(slow) / 16000 < 4.0
    low = voiced(synth.speak("ah", PicoVoice("en-US", 100, 70)))
    high = voiced(synth.speak("ah", PicoVoice("en-US", 100, 140)))
    assert _pitch_hz(low) < 0.85 * _pitch_hz(high)
    drawn = {jitter(PicoVoice("en-US", 100, 100), rng) for _ in range(5)}
    assert len(drawn) == 5 and all(v.language == "en-US" for v in drawn)
    # text is markup to pico2wave: a stray < or & is spoken, not a syntax error
    assert len(voiced(synth.speak("fish & chips < 5 pounds", PicoVoice("en-US", 100, 100))))


def test_a_missing_pico2wave_is_named_with_its_package(monkeypatch):
    real_which = speech_module.shutil.which
    monkeypatch.setattr(
        speech_module.shutil,
        "which",
        lambda name: None if name == "pico2wave" else real_which(name),
    )
    with pytest.raises(EdgeAIError, match=r"^pico2wave is missing \(Debian libttspico-utils, "
                       r"non-free\): run scripts/install-system-deps.sh$"):  # fmt: skip
        Synthesizer(None).speak("hey jarvis", PicoVoice("en-US", 100, 100))


def test_kokoro_voices_take_the_recipe_s_share_of_training_and_none_of_dev():
    without, dev_without = make_splits(np.random.default_rng(0), with_piper=True, pico=0.2)
    train, dev = make_splits(np.random.default_rng(0), with_piper=True, pico=0.2, kokoro=0.3)
    kokoro = [v for v in train.voices if isinstance(v, KokoroVoice)]
    pico = [v for v in train.voices if isinstance(v, PicoVoice)]
    assert len(kokoro) / len(train.voices) == pytest.approx(0.3, abs=0.01)
    assert len(pico) / len(train.voices) == pytest.approx(0.2, abs=0.01)
    assert {s for v in kokoro for s in v.speakers} == set(KOKORO_SPEAKERS)
    assert {v.language for v in kokoro} == {"en-us", "en-gb"}
    assert any(v.speakers[0] != v.speakers[1] for v in kokoro)  # blends of two speakers too

    def base(voices: tuple) -> list:
        return [v for v in voices if isinstance(v, EspeakVoice | PiperStyle)]

    assert base(train.voices) == base(without.voices)
    assert dev == dev_without
    with pytest.raises(ValueError, match=r"pico \+ kokoro is 0.9; expected at most 0.75"):
        WakeWordRecipe(phrase="hey computer", pico=0.4, kokoro=0.5)


def test_a_recipe_with_kokoro_fails_before_synthesis_without_the_model(model_store, tmp_path):
    from edgeai.store import ModelStore

    store = ModelStore(tmp_path / "store")
    store.root.mkdir()
    for name in ("openwakeword-frontend", "piper-en-us-joe-medium"):  # all but Kokoro
        (store.root / name).symlink_to(TEST_MODEL_STORE / name)
    recipe = WakeWordRecipe(phrase="hey computer", kokoro=0.2)
    with pytest.raises(EdgeAIError, match=r"^model kokoro-82m-int8 is not in the store \(.*\); "
                       r"run `edgeai models pull kokoro-82m-int8`$"):  # fmt: skip
        build_wakeword(recipe, store, Catalog.load(), tmp_path / "out")


def test_kokoro_speaks_the_phrase_faster_when_told_and_blends_its_speakers(kokoro_model: Path):
    synth, rng = Synthesizer(None, kokoro_model), np.random.default_rng(3)
    a, b = "jf_nezumi", "jm_kumo"
    slow = voiced(synth.speak("hey jarvis, it is me", KokoroVoice((b, b), 1.0, "en-us", 0.8)))
    fast = voiced(synth.speak("hey jarvis, it is me", KokoroVoice((b, b), 1.0, "en-us", 1.25)))
    assert 0.6 < len(fast) / 16000 < 0.85 * len(slow) / 16000 < 4.0
    woman = _pitch_hz(voiced(synth.speak("ah.", KokoroVoice((a, a), 1.0, "en-gb", 1.0))))
    man = _pitch_hz(voiced(synth.speak("ah.", KokoroVoice((b, b), 1.0, "en-gb", 1.0))))
    blend = _pitch_hz(voiced(synth.speak("ah.", KokoroVoice((a, b), 0.5, "en-gb", 1.0))))
    assert man < blend < woman and man < 0.8 * woman
    drawn = {jitter(KokoroVoice((a, b), 0.5, "en-us", 1.0), rng) for _ in range(5)}
    assert len(drawn) == 5 and all(v.speakers == (a, b) for v in drawn)


def test_kokoro_refuses_an_unknown_speaker_and_text_too_long_in_one_line(kokoro_model: Path):
    synth = Synthesizer(None, kokoro_model)
    with pytest.raises(EdgeAIError, match=r"^Kokoro speaker 'af_heart': not one of jf_alpha, "):
        synth.speak("hey jarvis", KokoroVoice(("af_heart", "af_heart"), 1.0, "en-us", 1.0))
    with pytest.raises(EdgeAIError, match=r"^Kokoro: 'hey jarvis hey jarvis [^\n]+ gives \d+ "
                       r"phonemes; expected 1-508$"):  # fmt: skip
        synth.speak("hey jarvis " * 60, KokoroVoice(("jm_kumo", "jm_kumo"), 1.0, "en-us", 1.0))
    with pytest.raises(EdgeAIError, match=r"^no kokoro-82m-int8 model was given to the synth"):
        Synthesizer(None).speak("hey jarvis", KokoroVoice(("jm_kumo",) * 2, 1.0, "en-us", 1.0))


def _pitch_hz(speech: np.ndarray) -> float:
    """Median pitch of int16 speech, by Praat."""
    import parselmouth

    sound = parselmouth.Sound(speech.astype(np.float64) / 32768, 16000)
    pitch = sound.to_pitch().selected_array["frequency"]
    return float(np.median(pitch[pitch > 0]))


def test_the_held_out_family_is_no_voice_training_or_the_threshold_choice_hears():
    train, dev = make_splits(np.random.default_rng(0), with_piper=True)
    held_out = held_out_split(np.random.default_rng(0))
    engines = {v.voice.split("+")[0] for v in held_out.voices if isinstance(v, EspeakVoice)}
    assert engines == {"mb-us1", "mb-us2", "mb-us3", "mb-en1"}
    assert not set(held_out.voices) & (set(train.voices) | set(dev.voices))
    assert not any(v.voice.startswith("mb-") for v in train.voices + dev.voices
                   if isinstance(v, EspeakVoice))  # fmt: skip
    speech = voiced(Synthesizer(None).speak("hey jarvis", held_out.voices[0]))
    assert 0.3 < len(speech) / 16000 < 2.0


def test_a_missing_held_out_voice_is_named_with_its_package(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(held_out_voices, "MBROLA_DIR", tmp_path)
    with pytest.raises(EdgeAIError, match=r"^held-out voice family: MBROLA voice .*us1 is "
                       r"missing; run scripts/install-system-deps.sh \(Debian mbrola-us1\)$"):  # fmt: skip
        held_out_voices.mbrola_voices()


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: c.name)
def test_a_condition_clip_has_the_background_it_names(condition: Condition):
    rng = np.random.default_rng(5)
    split = held_out_split(rng)
    speech = (np.sin(np.arange(8000) / 5) * 10000).astype(np.int16)
    clip, end = on_background(speech, condition, split, rng, None, 1.0, 0.5)
    assert end == 16000 + len(speech)
    lead = clip[:16000].astype(np.float64) / 32768
    level = 10 * np.log10(np.mean(lead**2) + 1e-30)
    if condition.snr_db is not None:
        assert -60 < level < -10
    elif condition.floor_dbfs is not None:
        assert abs(level - condition.floor_dbfs) < 6  # int16 rounding adds a little at -80
    else:
        assert not lead.any()


def test_a_simulated_room_reverberates_about_as_long_as_drawn():
    import pyroomacoustics as pra

    rng = np.random.default_rng(11)
    for room in (simulate_room(rng) for _ in range(3)):
        assert np.max(np.abs(room.response)) == pytest.approx(1.0)
        assert DISTANCE_M[0] * 0.05 <= room.distance_m <= DISTANCE_M[1] + 1e-6
        measured = pra.experimental.measure_rt60(room.response, fs=16000)
        assert 0.5 * room.rt60_s < measured < 1.6 * room.rt60_s
        said = speak("hey jarvis").astype(np.float32) / 32768
        heard = in_room(said, room)
        assert len(heard) == len(said) and not np.allclose(heard, said)


def test_a_new_speaker_has_the_pitch_it_was_given_and_the_same_timing():
    said = speak("hey jarvis, what time is it", words_per_minute=140)
    for target in (95.0, 230.0):
        changed = as_speaker(said, Speaker(1.15, target, 1.0))
        assert len(changed) == len(said)
        assert _pitch_hz(changed) == pytest.approx(target, rel=0.2)


def test_a_clip_praat_cannot_analyse_keeps_its_voice_instead_of_ending_the_build():
    too_short_for_the_pitch_floor = (np.sin(np.arange(400) / 17) * 10000).astype(np.int16)
    changed = as_speaker(too_short_for_the_pitch_floor, Speaker(1.15, 200.0, 1.0))
    assert np.array_equal(changed, too_short_for_the_pitch_floor)


def test_quiet_training_clips_lie_over_digital_silence_or_a_faint_floor():
    rng = np.random.default_rng(2)
    train, _ = make_splits(rng, with_piper=False)
    quiet = replace(train, variety=Variety(quiet=1.0))
    speech = (np.sin(np.arange(8000) / 5) * 10000).astype(np.int16)
    levels = []
    for _ in range(20):
        clip, _ = place(speech, quiet, rng, None, 1.0, 0.3)
        lead = clip[:16000].astype(np.float64) / 32768
        levels.append(10 * np.log10(np.mean(lead**2) + 1e-30))
    assert min(levels) < -200 and max(levels) < -55  # some digital silence, none louder


def test_a_voice_that_gives_no_sound_fails_the_build_naming_it():
    rng = np.random.default_rng(0)
    train, _ = make_splits(rng, with_piper=False)
    broken = replace(train, voices=(*train.voices[:2], EspeakVoice("xx-nosuch", 160, 50)))
    with pytest.raises(EdgeAIError, match=r"^espeak-ng voice 'xx-nosuch': .+$"):
        check_voices(Synthesizer(None), broken)


def test_a_positive_ends_where_its_phrase_stops_sounding_not_where_the_padding_does():
    slow = EspeakVoice("en-us+m3", 110, 50)
    speech = Synthesizer(None).speak("hey jarvis", slow)
    assert len(speech) - len(voiced(speech)) > 0.4 * 16000  # espeak-ng's padding at this rate

    quiet_room = Split("t", (slow,), ("white",), (), (200.0, 200.0), ())
    rng = np.random.default_rng(3)
    for positive in positives(Synthesizer(None), "hey jarvis", quiet_room, 6, rng, None):
        magnitude = np.abs(positive.clip.astype(np.int32))  # int16 -32768 has no abs
        loud = np.flatnonzero(magnitude > 0.1 * magnitude.max())
        # the phrase's last loud sample is at the labelled end (reverb may carry on a little)
        assert -0.1 < (loud[-1] - positive.end_sample) / 16000 < 0.15
        # the window the head learns to fire on, with the front end's context, is all clip
        assert positive.end_sample > HEAD_WINDOW_SAMPLES


def test_a_barge_in_positive_has_other_speech_a_moment_before_the_phrase_in_the_same_lead():
    synth, voice = Synthesizer(None), EspeakVoice("en-us+m3", 150, 50)
    phrase = voiced(synth.speak("stop", voice))
    room = Split("t", (EspeakVoice("en-gb+f2", 170, 60),), ("white",), (), (20.0, 20.0), ())
    rng = np.random.default_rng(5)
    gaps = []
    for lead_s in (1.6, 2.0, 2.4):
        speech, quiet_s = after_other_speech(
            synth, phrase, voice, room, rng, "The train driver washed two tickets.", lead_s
        )
        assert np.array_equal(speech[-len(phrase) :], phrase)  # the phrase ends the speech
        before = speech[: -len(phrase)]
        loud = np.flatnonzero(np.abs(before.astype(np.int32)) > 0)
        gap_s = (len(before) - loud[-1] - 1) / 16000
        assert SPEECH_BEFORE_GAP_S[0] - 0.01 <= gap_s <= SPEECH_BEFORE_GAP_S[1]
        assert loud[-1] > 0.2 * 16000  # a real stretch of speech, not a click
        assert quiet_s >= QUIET_LEAD_S - 1e-6
        assert abs(quiet_s + len(before) / 16000 - lead_s) < 1e-3  # the lead it had, kept
        gaps.append(gap_s)
    assert len(set(gaps)) == 3  # each clip draws its own pause


def test_a_hurried_voice_says_the_phrase_faster_than_its_ordinary_draws(model_store):
    """Fast talkers say "hey jarvis" in 0.35-0.5 s; the ordinary draws rarely go under 0.55 s."""
    synth = Synthesizer(TEST_MODEL_STORE / "piper-en-us-joe-medium" / "en_US-joe-medium.onnx")
    rng = np.random.default_rng(5)

    def seconds(voice) -> float:
        return len(voiced(synth.speak("hey jarvis", voice))) / 16000

    voices = (
        EspeakVoice("en-us+m3", 160, 50),
        PiperStyle(1.0, 0.667, 0.8),
        PicoVoice("en-GB", 100, 100),
    )
    for voice in voices:
        ordinary = [seconds(jitter(voice, rng)) for _ in range(6)]
        fast = [seconds(hurried(voice, rng)) for _ in range(6)]
        assert max(fast) < np.median(ordinary), voice.label
        assert 0.3 < np.median(fast) < 0.56, voice.label
        assert type(hurried(voice, rng)) is type(voice)


def test_fast_positives_are_shorter_and_off_by_default():
    synth, (train, _) = Synthesizer(None), make_splits(np.random.default_rng(0), with_piper=False)

    def speech_seconds(fast: float) -> float:
        """Median time from the clip's first loud sample to the phrase's end."""
        clips = positives(synth, "hey jarvis", train, 8, np.random.default_rng(4), None, fast=fast)
        spans = []
        for c in clips:
            loud = np.flatnonzero(np.abs(c.clip[: c.end_sample].astype(np.int32)) > 3000)
            spans.append((c.end_sample - loud[0]) / 16000)
        return float(np.median(spans))

    assert speech_seconds(1.0) < 0.8 * speech_seconds(0.0)
    assert WakeWordRecipe(phrase="hey computer").fast == 0.0


def test_an_accented_phrase_changes_only_its_vowels_and_hs_and_varies_from_draw_to_draw():
    voice = EspeakVoice("en-gb+m3", 150, 50)
    full = espeak_phonemes("hey jarvis", voice).split()
    vowel_letters = set("".join([*ACCENT_VOWELS, *sum(ACCENT_VOWELS.values(), ())])) | set("',")
    consonants = [[c for c in word if c not in vowel_letters] for word in full]
    rng = np.random.default_rng(3)
    said = [accented("hey jarvis", voice, rng) for _ in range(40)]
    changed = [s for s in said if s is not None]
    assert len(set(changed)) >= 5  # each clip draws its own accent
    assert any(not s[2:].startswith("h") for s in changed)  # some drop the h of "hey"
    for spoken in changed:
        assert spoken.startswith("[[") and spoken.endswith("]]") and spoken[2:-2] != " ".join(full)
        words = spoken[2:-2].split()
        kept = [[c for c in word if c not in vowel_letters] for word in words]
        assert kept in (consonants, [consonants[0][1:], *consonants[1:]])  # h or not, nothing else
    assert accented("hey jarvis", voice, np.random.default_rng(3)) == said[0]  # seeded, repeatable
    speech = voiced(Synthesizer(None).speak(changed[0], voice))
    assert 0.3 < len(speech) / 16000 < 2.0  # espeak-ng says it


def test_near_misses_are_close_but_never_the_phrase_and_differ_between_splits():
    train, dev = near_misses("hey jarvis")
    assert "hey jarvis" not in train + dev
    assert "jarvis" in train
    assert not set(train) & set(dev)
    assert any(m.startswith("hey ") and m != "hey" for m in dev)


def test_the_bundled_recipe_is_valid():
    from edgeai.yamlfile import load_yaml_model

    recipe = load_yaml_model(REPO / "export" / "wakeword-hey-jarvis.yaml", WakeWordRecipe)
    assert recipe.name == "hey_jarvis"
    assert recipe.dev_negative_minutes >= 60  # false accepts per hour need an hour


def test_export_wakeword_needs_a_phrase_or_a_recipe():
    result = CliRunner().invoke(cli, ["export", "wakeword"])
    assert result.exit_code == 2
    assert "give a PHRASE or a --recipe" in result.output


def test_bench_wake_smoke_run_writes_json_and_markdown(model_store, tmp_path: Path):
    config = tmp_path / "edgeai.yaml"
    config.write_text(f"models:\n  store: {TEST_MODEL_STORE}\nprofile: x86-cpu\n")
    out = tmp_path / "bench"
    result = CliRunner().invoke(
        cli, ["--config", str(config), "bench", "wake", "--out", str(out), "--positives", "4",
              "--negative-minutes", "0.5", "--condition-positives", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "wake.json").read_text())
    assert [r["word"] for r in rows] == ["hey_jarvis", "stop"]  # the wake word and stop word
    row = rows[0]
    assert row["metrics"]["positives"] == 4
    assert row["total_cpu_percent"] > 0
    report = (out / "wake.md").read_text()
    assert "| false accepts |" in report and "| near-miss phrases accepted" in report
    assert row["metrics"]["after_speech_positives"] == 1  # a third of the positives
    assert "| false rejects right after other speech (barge-in) |" in report
    assert "| measure | in-family (espeak-ng dev voices) | held-out (MBROLA voices) |" in report
    assert "| false rejects, digital silence |" in report
    assert row["held_out"]["positives"] == 4
    assert len(row["condition_false_reject_rates"]) == 8  # 2 families x 4 conditions
    assert (out / "wake.png").stat().st_size > 10_000


def _db(audio: np.ndarray) -> float:
    return 20 * float(np.log10(rms(np.asarray(audio, np.float64) / 32768) + 1e-12))


def test_a_talk_over_clip_has_the_phrase_at_the_drawn_level_above_the_other_speech():
    synth = Synthesizer(None)
    phrase = voiced(synth.speak("hey jarvis", EspeakVoice("en-us+m3", 150, 50)))
    reply = voiced(synth.speak(REPLIES[0], EspeakVoice("en-gb+f2", 160, 50)))
    other = simulate_echo_path(np.random.default_rng(1)).apply(reply.astype(np.float32) / 32768)
    quiet_room = Split("t", (), ("white",), (), (200.0, 200.0), ())
    for level_db in (10.0, 25.0, 40.0):
        alone, end = place(phrase, quiet_room, np.random.default_rng(4), None, 2.0, 0.6)
        mixed, same_end = place(
            phrase, quiet_room, np.random.default_rng(4), None, 2.0, 0.6, (other, level_db)
        )
        assert same_end == end
        under = mixed.astype(np.float64) - alone
        assert _db(alone) - _db(under) == pytest.approx(level_db, abs=1.5)
        start = end - len(phrase) // 2  # the other speech runs through the phrase
        assert np.any(under[start - 800 : start + 800])


def test_an_echo_residue_negative_is_quieter_than_its_echo_and_not_silent():
    synth, rng = Synthesizer(None), np.random.default_rng(6)
    reply, before = (
        voiced(synth.speak(text, EspeakVoice("en-us+m3", 160, 50)))
        for text in ("Jarvis here. I cancelled the timer for the oven.", "Stop the stove now.")
    )
    for warm_up in (None, before):  # a fresh room, and one the canceller already knows
        residue, mic = echo_residue(reply, simulate_echo_path(rng), 6.0, rng, warm_up)
        assert len(residue) == len(mic) >= len(reply)
        assert -70 < _db(residue) < _db(mic) - 3


def test_a_cancelled_talk_over_positive_keeps_its_phrase_over_the_canceller_s_residue():
    synth, rng = Synthesizer(None), np.random.default_rng(3)
    talker = EspeakVoice("en-us+m3", 150, 50)
    phrase = voiced(synth.speak("stop", talker))
    reply = voiced(synth.speak(REPLIES[0], EspeakVoice("en-gb+f2", 160, 50)))
    path = simulate_echo_path(np.random.default_rng(1))
    quiet_room = Split("t", (), ("white",), (), (200.0, 200.0), ())
    clip, end = place(phrase, quiet_room, np.random.default_rng(4), None, 2.0, 0.6)
    lead = end - len(phrase)
    split = replace(quiet_room, variety=Variety(echo_paths=(path,), replies=(reply,)))
    under_db, kept = [], []
    for _ in range(12):  # fresh rooms and warm ones, echo -10..+10 dB over the talker
        heard = over_reply(clip, lead, split, rng)
        assert len(heard) == len(clip)
        before, word = heard[lead - 8000 : lead - 800], heard[lead:end]
        assert _db(before) > -75  # the reply's residue is there, not dropped
        under_db.append(_db(word) - _db(before))
        kept.append(np.corrcoef(word.astype(np.float64), clip[lead:end].astype(np.float64))[0, 1])
    # mostly well under the phrase (a fresh room at +10 dB leaves more), the phrase still the
    # talker's: it follows the clean phrase closely
    assert np.median(under_db) > 6 and max(under_db) > 20
    assert min(kept) > 0.6 and np.median(kept) > 0.9


def test_echo_options_at_zero_draw_nothing_so_the_data_stays_as_it_was():
    synth = Synthesizer(None)
    reply = voiced(synth.speak(REPLIES[0], EspeakVoice("en-gb+f2", 160, 50)))
    path = simulate_echo_path(np.random.default_rng(1))
    train, _ = make_splits(np.random.default_rng(0), with_piper=False)
    train = replace(train, voices=train.voices[:3])
    unused = replace(train, variety=Variety(echo_paths=(path,), replies=(reply,)))
    used = replace(train, variety=Variety(talk_over=1.0, echo_paths=(path,), replies=(reply,)))
    cancelled = Variety(cancelled_talk_over=1.0, echo_paths=(path,), replies=(reply,))

    def data(split: Split) -> list[np.ndarray]:
        rng = np.random.default_rng(9)
        found = [p.clip for p in positives(synth, "hey jarvis", split, 3, rng, None)]
        return found + negatives(synth, "hey jarvis", split, 8.0, rng, None, {"sentence": 1})

    before, after = data(train), data(unused)
    assert len(before) == len(after)
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    for other in (data(used), data(replace(train, variety=cancelled))):
        assert not np.array_equal(before[0], other[0])


def test_echo_residue_without_the_canceller_library_fails_before_synthesis_in_one_line(
    monkeypatch,
):
    import ctypes

    from edgeai.export.wakeword import trainer

    def no_library(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_library)  # as if libspeexdsp1 were not installed
    recipe = WakeWordRecipe(phrase="hey computer", echo_residue=0.1)
    train, _ = make_splits(np.random.default_rng(0), with_piper=False)
    with pytest.raises(
        EdgeAIError, match=r"^echo cancellation needs libspeexdsp1: libspeexdsp not found[^\n]+$"
    ):
        trainer._variety(recipe, np.random.default_rng(0), Synthesizer(None), train)


def test_the_recipe_s_dropout_and_weight_decay_reach_the_heads():
    """Stronger regularization is the recipe's to choose: weight decay shrinks the heads'
    weights, dropout is the layer's own, and the defaults are the ones heads were built with."""
    from torch import nn

    from edgeai.export.wakeword.train import DROPOUT, WEIGHT_DECAY, train_heads

    rng = np.random.default_rng(0)
    positives = rng.normal(0.5, 1, (40, 16, 96)).astype(np.float32)
    negatives = rng.normal(-0.5, 1, (2000, 16, 96)).astype(np.float32)
    none = np.zeros((0, 16, 96), np.float32)

    def first_layer_norm(dropout: float, weight_decay: float) -> tuple[float, list[float]]:
        model = train_heads(positives, negatives, none, 1, 1, 40, dropout, weight_decay)
        modules = list(model.modules())  # type: ignore[attr-defined]
        linear = next(m for m in modules if isinstance(m, nn.Linear))
        drops = [m.p for m in modules if isinstance(m, nn.Dropout)]
        return float(linear.weight.detach().square().sum()), drops

    _, drops = first_layer_norm(0.0, 0.0)
    dropped, strong_drops = first_layer_norm(0.6, 0.0)
    decayed, _ = first_layer_norm(0.6, 1.0)  # the same dropout: only the decay differs
    assert decayed < 0.9 * dropped
    assert drops == [0.0, 0.0] and strong_drops == [0.6, 0.6]
    recipe = WakeWordRecipe(phrase="hey computer")
    assert (recipe.dropout, recipe.weight_decay) == (DROPOUT, WEIGHT_DECAY)
    with pytest.raises(ValueError):
        WakeWordRecipe(phrase="hey computer", dropout=1.0)
