"""Recipe in, head and manifest out: synthesize, augment, featurize, train, gate, write."""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.config import EchoSettings
from edgeai.ears.echo import load_audio_processing, load_linear_canceller
from edgeai.ears.wake.evaluate import REFRACTORY_S, WakeMetrics, evaluate, head_spec
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, EMBEDDING_DIM, WakeFrontend
from edgeai.export.wakeword.look_choice import manifest_fields, with_second_look
from edgeai.export.wakeword.recipe import WakeWordRecipe
from edgeai.export.wakeword.train import (
    WINDOW,
    export_onnx,
    scores,
    train_heads,
    windows_ending_at,
)
from edgeai.models.catalog import Catalog
from edgeai.store import ModelStore
from edgeai.synthetic import wake_data as dataset
from edgeai.synthetic.echo import simulate_echo_path
from edgeai.synthetic.kokoro import KOKORO_MODEL
from edgeai.synthetic.rooms import simulate_room
from edgeai.synthetic.speech import Synthesizer

log = logging.getLogger(__name__)

FRONTEND = "openwakeword-frontend"
VOICE = "piper-en-us-joe-medium"
DEV_SEED_OFFSET = 1000
"""The dev set draws from its own generator, so it does not change with training sizes."""
POSITIVE_OFFSETS = (0, 1, 2, 3)
"""Blocks after the phrase's last block at which the head should fire."""
STREAM_CLIPS = 200
"""Negative clips featurized as one stream, as a microphone hears them: the ends of sentences
and the changes of background between clips are then in the negatives too (a head trained on
clips that each start from silence false-accepted mostly there)."""
ROOMS = 64
"""Rooms simulated per build; clips draw one of them (a room takes a fifth of a second)."""
ECHO_PATHS = 32
"""Echo paths (room, loudspeaker placement, delay, distortion) simulated per build for the
talk-over positives and echo-residue negatives."""
MINING_FLOOR = 0.2
"""A mining pool window scored this high by a head is a near false accept: train on it."""


def build_wakeword(
    recipe: WakeWordRecipe, store: ModelStore, catalog: Catalog, out: Path
) -> dict[str, object]:
    """Train and evaluate a head; write <out>/<name>.onnx and .json atomically.

    Returns the manifest written beside the head.
    """
    frontend = WakeFrontend(store.require(catalog.get(FRONTEND)))
    kokoro = store.require(catalog.get(KOKORO_MODEL)) if recipe.kokoro else None
    synth = Synthesizer(store.main_file(catalog.get(VOICE)), kokoro)
    rng = np.random.default_rng(recipe.seed)
    train_split, _ = dataset.make_splits(
        rng, with_piper=True, pico=recipe.pico, kokoro=recipe.kokoro
    )
    dataset.check_voices(synth, train_split)
    train_split = replace(train_split, variety=_variety(recipe, rng, synth, train_split))
    started = time.monotonic()

    log.info("synthesizing training data for %r", recipe.phrase)
    train_babble = dataset.babble_track(synth, train_split, 120.0, rng, recipe.phrase)
    train_pos = dataset.positives(
        synth, recipe.phrase, train_split, recipe.positives, rng, train_babble,
        recipe.after_speech, recipe.accents, recipe.fast,
    )  # fmt: skip
    train_neg = dataset.negatives(
        synth, recipe.phrase, train_split, recipe.negative_minutes * 60, rng, train_babble,
        dataset.TRAIN_NEGATIVE_MIX,
    )  # fmt: skip
    pos_windows = _positive_windows(frontend, train_pos)
    neg_windows = _negative_windows(frontend, train_neg)
    pool = _negative_windows(
        frontend,
        dataset.negatives(
            synth, recipe.phrase, train_split, recipe.mining_minutes * 60, rng, train_babble,
            dataset.ORDINARY_MIX,
        ),
    )  # fmt: skip

    # the false-reject rule chooses the threshold on a tenth of the training clips, held out;
    # the false-accept rule chooses it on the dev set, so then every clip trains
    allowed_per_hour = recipe.max_false_accepts_per_hour
    kept = 1.0 if allowed_per_hour is not None else 0.9
    split_pos, split_neg = int(len(pos_windows) * kept), int(len(neg_windows) * kept)
    train_pos_windows = pos_windows[:split_pos].reshape(-1, WINDOW, pos_windows.shape[-1])
    model = _train_mining(train_pos_windows, neg_windows[:split_neg], pool, recipe)

    log.info("building the dev set (kept apart from training)")
    dev = dataset.dev_set(
        Synthesizer(None), recipe.phrase, recipe.dev_positives, recipe.dev_negative_minutes * 60,
        seed=recipe.seed + DEV_SEED_OFFSET,
    )  # fmt: skip
    if allowed_per_hour is not None:
        threshold = _threshold_for_false_accepts(model, frontend, dev.ordinary, allowed_per_hour)
    else:
        held_out = pos_windows[split_pos:]
        clip_scores = scores(model, held_out.reshape(-1, WINDOW, held_out.shape[-1]))
        best_per_clip = clip_scores.reshape(len(held_out), -1).max(axis=1)
        threshold = _choose_threshold(best_per_clip, recipe.max_false_reject_rate)

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".wakeword-") as workdir:
        head = Path(workdir) / f"{recipe.name}.onnx"
        export_onnx(model, head)
        spec, look = with_second_look(
            frontend, store, catalog, head_spec(recipe.name, head, threshold), [recipe],
            dev.ordinary,
        )  # fmt: skip
        metrics = evaluate(frontend, spec, dev)
        manifest = _manifest(
            recipe, threshold, metrics, len(train_pos), len(train_neg), time.monotonic() - started
        ) | manifest_fields(look)
        (Path(workdir) / f"{recipe.name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
        for suffix in (".onnx", ".json"):
            (Path(workdir) / f"{recipe.name}{suffix}").replace(out / f"{recipe.name}{suffix}")
    return manifest


def _variety(
    recipe: WakeWordRecipe, rng: np.random.Generator, synth: Synthesizer, split: dataset.Split
) -> dataset.Variety:
    """The recipe's new speakers, rooms, quiet rooms, talk-over and echo residue; ROOMS rooms
    and ECHO_PATHS echo paths simulated, and the reply pool spoken, when needed (none drawn
    without them, so recipes without them build the data they always did)."""
    rooms = tuple(
        simulate_room(rng)
        for _ in tqdm(range(ROOMS if recipe.rooms else 0), desc="rooms", unit="room", disable=None)
    )
    cancels = bool(recipe.echo_residue or recipe.cancelled_talk_over)
    echo = bool(recipe.talk_over or cancels)
    if cancels:  # the canceller's libraries are there, before hours of synthesis
        load_linear_canceller()
        load_audio_processing(EchoSettings())
    paths = tuple(
        simulate_echo_path(rng)
        for _ in tqdm(range(ECHO_PATHS if echo else 0), desc="echo paths", disable=None)
    )
    replies = dataset.reply_pool(synth, split, rng, recipe.phrase) if echo else ()
    return dataset.Variety(
        recipe.new_speakers, recipe.rooms, rooms, recipe.quiet,
        recipe.talk_over, recipe.echo_residue, paths, replies, recipe.cancelled_talk_over,
    )  # fmt: skip


def _stream_windows(frontend: WakeFrontend, audio: np.ndarray) -> np.ndarray:
    """Every window a fresh stream of `audio` gives the head, one per block."""
    features = stream_features(frontend, audio)
    return windows_ending_at(features, list(range(WINDOW, len(features))))


def stream_features(frontend: WakeFrontend, clip: np.ndarray) -> np.ndarray:
    """Embeddings of a clip, led by the WINDOW warm-up embeddings a fresh stream starts with."""
    warm_up = np.repeat(frontend.silence_embedding, WINDOW, axis=0)
    return np.concatenate([warm_up, frontend.features(clip)])


def _positive_windows(frontend: WakeFrontend, clips: list[dataset.Positive]) -> np.ndarray:
    """(clips, len(POSITIVE_OFFSETS), WINDOW, 96): the windows each clip should fire on."""
    windows = []
    for clip in tqdm(clips, desc="features: positives", unit="clip", disable=None):
        features = stream_features(frontend, clip.clip)
        last_block = (clip.end_sample - 1) // BLOCK_SAMPLES + WINDOW  # shifted by the warm-up
        ends = [min(last_block + k, len(features) - 1) for k in POSITIVE_OFFSETS]
        windows.append(windows_ending_at(features, ends))
    return np.stack(windows)


def _negative_windows(frontend: WakeFrontend, clips: list[np.ndarray]) -> np.ndarray:
    """Every window of the clips, featurized STREAM_CLIPS at a time as one stream."""
    windows = [np.zeros((0, WINDOW, EMBEDDING_DIM), np.float32)]
    runs = range(0, len(clips), STREAM_CLIPS)
    for start in tqdm(runs, desc="features: negatives", unit="stream", disable=None):
        windows.append(
            _stream_windows(frontend, np.concatenate(clips[start : start + STREAM_CLIPS]))
        )
    return np.concatenate(windows)


def _train_mining(
    positives: np.ndarray, negatives: np.ndarray, pool: np.ndarray, recipe: WakeWordRecipe
) -> object:
    """Train; add the pool's windows the heads score high to the negatives; train again.

    The pool is ordinary speech and noise the heads never trained on: what they nearly accept
    there is what they would false-accept in a room, and worth more than more of the same data.
    """
    hard = np.zeros((0, WINDOW, EMBEDDING_DIM), np.float32)
    rounds = recipe.mining_rounds if len(pool) else 0
    for round_ in range(rounds + 1):
        model = train_heads(
            positives, negatives, hard, recipe.seed, recipe.heads, recipe.epochs,
            recipe.dropout, recipe.weight_decay,
        )  # fmt: skip
        if round_ == rounds:
            break
        found = pool[scores(model, pool) >= MINING_FLOOR]
        log.info("mining round %d: %d new hard negatives", round_ + 1, len(found))
        hard = np.concatenate([hard, found])
    return model


def _choose_threshold(positive_scores: np.ndarray, max_false_reject_rate: float) -> float:
    """The highest threshold that still accepts all but `max_false_reject_rate` of positives.

    A clip counts as accepted when any of its windows scores above the threshold. Clamped to
    0.2-0.95 so a degenerate head cannot pick an absurd value.
    """
    quantile = float(np.quantile(positive_scores, max_false_reject_rate))
    return float(np.clip(quantile, 0.2, 0.95))


def _threshold_for_false_accepts(
    model: object, frontend: WakeFrontend, negatives: np.ndarray, per_hour: float
) -> float:
    """The lowest threshold at which the heads, streaming through `negatives` with the
    runtime's refractory, fire at most `per_hour` times an hour (see `threshold_for_stream`).

    Chosen on the trainer's dev set: its voices and words are nobody's in training, as a user's
    are not, and held-out training clips make a head look surer than it is.
    """
    stream = scores(model, _stream_windows(frontend, negatives))
    return threshold_for_stream(stream, len(negatives) / SAMPLE_RATE_HZ / 3600, per_hour)


def threshold_for_stream(stream_scores: np.ndarray, hours: float, per_hour: float) -> float:
    """The lowest threshold at which a head's block scores over `hours` of negatives fire at
    most `per_hour` times an hour (at least 0.2, at most 0.999): the trainer's rule, for any
    head (a mean of built heads is chosen by it too)."""
    allowed = int(per_hour * hours)
    low, high = 0.2, 0.999
    if count_firings(stream_scores, low) <= allowed:
        return low
    for _ in range(30):
        middle = (low + high) / 2
        fits = count_firings(stream_scores, middle) <= allowed
        low, high = (low, middle) if fits else (middle, high)
    return math.ceil(high * 10_000) / 10_000  # as the manifest writes it, never below


def count_firings(stream_scores: np.ndarray, threshold: float) -> int:
    """Detections in a stream of block scores, each followed by the refractory's quiet blocks."""
    quiet_blocks = round(REFRACTORY_S * SAMPLE_RATE_HZ / BLOCK_SAMPLES)
    count, quiet_until = 0, 0
    for block in np.flatnonzero(stream_scores >= threshold):
        if block >= quiet_until:
            count, quiet_until = count + 1, block + quiet_blocks
    return count


def _manifest(
    recipe: WakeWordRecipe,
    threshold: float,
    metrics: WakeMetrics,
    positives: int,
    negatives: int,
    seconds: float,
) -> dict[str, object]:
    return {
        "name": recipe.name,
        "phrase": recipe.phrase,
        "kind": "openwakeword-head",
        "format": "onnx",
        "precision": "fp32",
        "input": {"name": "embeddings", "shape": [1, WINDOW, 96]},
        "frontend": FRONTEND,
        "threshold": round(threshold, 4),
        "threshold_rule": (
            f"at most {recipe.max_false_accepts_per_hour} false accepts per hour on the dev set"
            if recipe.max_false_accepts_per_hour is not None
            else f"{recipe.max_false_reject_rate:.0%} false rejects on held-out training clips"
        ),
        "refractory_s": REFRACTORY_S,
        "recipe": recipe.model_dump(mode="json", exclude={"out"}),
        "training": {
            "positive_clips": positives,
            "negative_clips": negatives,
            "build_seconds": round(seconds),
        },
        "dev": dev_metrics(metrics),
        "licence": "Apache-2.0 (trained here from synthetic speech)",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def dev_metrics(metrics: WakeMetrics) -> dict[str, object]:
    """A head's dev-set measures as its manifest keeps them."""
    return {
        **asdict(metrics),
        "false_reject_rate": round(metrics.false_reject_rate, 4),
        "false_accepts_per_hour": round(metrics.false_accepts_per_hour, 3),
        "after_speech_false_reject_rate": round(metrics.after_speech_false_reject_rate, 4),
        "kept_apart": "dev voices, variants, sentences, near misses and noises differ",
    }
