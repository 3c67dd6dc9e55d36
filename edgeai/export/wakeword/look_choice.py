"""The trainer chooses a head's second look (edgeai/ears/wake/second_look.py), as the bundled
head's was chosen by hand in session 51: on phrases from voice families no member of the head
trained on (SVOX Pico, Kokoro; said at ordinary and fast rates and right after other speech),
with the dev set's ordinary speech as the false-accept budget. A look only counts where it adds
no false accept beyond what the recipe allows (or what the head alone already takes), so it
is chosen for the voices the head does not know and paid for on the ones it does.

Each look is traced once, its score at every lengthening kept, and every (lengthening,
threshold) is read from the traces, so the choice costs one pass over the audio."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.ears.wake.evaluate import EARLY_S, LATE_S
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, WakeFrontend
from edgeai.ears.wake.heads import SecondLookSpec, WakeHead, WakeWordSpec
from edgeai.ears.wake.second_look import SecondLook
from edgeai.export.wakeword.recipe import WakeWordRecipe
from edgeai.models.catalog import Catalog
from edgeai.store import ModelStatus, ModelStore
from edgeai.synthetic import wake_data as dataset
from edgeai.synthetic.kokoro import KOKORO_MODEL, kokoro_voices
from edgeai.synthetic.speech import PICO_LANGUAGES, PicoVoice, Synthesizer, Voice

log = logging.getLogger(__name__)

LOW = 0.1
"""A score this high asks for a look (the bundled head's; under it, session 51 found almost no
phrase the head missed within reach)."""
FACTORS = (1.15, 1.25, 1.35, 1.5)
THRESHOLDS = (0.9, 0.8, 0.7, 0.6)
"""Highest first: of looks that miss as few, the one tried first, the surest, is kept."""
TUNING_SEED_OFFSET = 3000
"""The tuning phrases draw from their own generator, apart from training's and the dev set's."""
SHARES = {"ordinary": 0.5, "fast": 0.25, "after speech": 0.25}
"""How each family's tuning phrases are said: where held-out voices are missed most."""


@dataclass(frozen=True)
class Look:
    """A moment in a stream where the word could count: the head fired itself, or a look was
    taken, with the lengthened audio's score at each of FACTORS."""

    at_s: float
    head_fired: bool
    scores: dict[float, float]

    def counts(self, factor: float | None, threshold: float) -> bool:
        return self.head_fired or (factor is not None and self.scores[factor] >= threshold)


@dataclass(frozen=True)
class LookChoice:
    """The chosen look (None: none helped within the budget) and what it was chosen on."""

    spec: SecondLookSpec | None
    families: tuple[str, ...]
    positives: int
    misses_alone: int
    misses: int
    negative_hours: float
    false_accepts_alone: int
    false_accepts: int

    def rule(self) -> str:
        if not self.families:
            return "none: every voice family apart from the dev set's trained the head"
        phrases = f"{' and '.join(self.families)} phrases (ordinary, fast, right after speech)"
        budget = "beyond the recipe's budget on the dev set's ordinary speech"
        if self.spec is None:
            return f"none: no look missed fewer of {phrases} without false accepts {budget}"
        return (
            f"the lengthening and threshold with the fewest misses of {phrases}, voices the "
            f"head never trained on, adding no false accept {budget}"
        )

    def summary(self) -> dict[str, object]:
        fields = dataclasses.asdict(self)
        del fields["spec"]
        return {
            **fields,
            "families": list(self.families),  # as JSON gives it back
            "negative_hours": round(self.negative_hours, 3),
        }


def untrained_families(
    recipes: Sequence[WakeWordRecipe], kokoro_model: bool
) -> dict[str, tuple[Voice, ...]]:
    """The families no recipe trained on (Kokoro only with its model in the store)."""
    families: dict[str, tuple[Voice, ...]] = {}
    if all(recipe.pico == 0 for recipe in recipes):
        families["SVOX Pico"] = tuple(PicoVoice(lang, 100, 100) for lang in PICO_LANGUAGES)
    if all(recipe.kokoro == 0 for recipe in recipes):
        if kokoro_model:
            families["Kokoro"] = tuple(kokoro_voices())
        else:
            log.warning("no Kokoro model in the store: the second look is chosen without it")
    return families


def tuning_positives(
    synth: Synthesizer,
    phrase: str,
    families: dict[str, tuple[Voice, ...]],
    count: int,
    seed: int,
) -> dict[str, list[dataset.Positive]]:
    """`count` phrases per family, said as SHARES says, over the dev split's noises."""
    found: dict[str, list[dataset.Positive]] = {}
    for index, (family, voices) in enumerate(families.items()):
        rng = np.random.default_rng(seed + TUNING_SEED_OFFSET + index)
        split = dataclasses.replace(dataset.dev_split(rng), voices=voices)
        babble = dataset.babble_track(synth, split, 60.0, rng, phrase)
        clips: list[dataset.Positive] = []
        for how, share in SHARES.items():
            clips += dataset.positives(
                synth, phrase, split, max(1, round(count * share)), rng, babble,
                after_speech=float(how == "after speech"), fast=float(how == "fast"),
            )  # fmt: skip
        found[family] = clips
    return found


def trace_looks(
    frontend: WakeFrontend, head: WakeHead, audio: np.ndarray, progress: str | None = None
) -> list[Look]:
    """Where the head fires (with its refractory) and every look the runtime would take, as
    the detector streams `audio`; the looks' scores at each of FACTORS."""
    stream = frontend.stream()
    spec = head.spec
    lookers = {f: SecondLook(SecondLookSpec(LOW, 1.0, f), frontend, head) for f in FACTORS}
    found: list[Look] = []
    quiet_until = 0.0
    blocks = range(len(audio) // BLOCK_SAMPLES)
    disable = True if progress is None else None
    for i in tqdm(blocks, desc=progress, unit="block", disable=disable, mininterval=1.0):
        block = audio[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]
        score = head.score(stream.push(block))
        now_s = (i + 1) * BLOCK_SAMPLES / SAMPLE_RATE_HZ
        quiet = now_s < quiet_until
        looked = {f: look.push(block, score, now_s, quiet) for f, look in lookers.items()}
        if score >= spec.threshold and not quiet:
            found.append(Look(now_s, True, {}))
            quiet_until = now_s + spec.refractory_s
        elif looked[FACTORS[0]] is not None:
            found.append(Look(now_s, False, {f: s for f, s in looked.items() if s is not None}))
    return found


def caught(looks: Sequence[Look], end_s: float, factor: float | None, threshold: float) -> bool:
    """A positive counts when the word is heard within EARLY_S..LATE_S of its phrase's end."""
    return any(
        end_s - EARLY_S <= look.at_s <= end_s + LATE_S and look.counts(factor, threshold)
        for look in looks
    )


def false_accepts(
    looks: Sequence[Look], factor: float | None, threshold: float, refractory_s: float
) -> int:
    count, quiet_until = 0, -1.0
    for look in looks:
        if look.at_s >= quiet_until and look.counts(factor, threshold):
            count, quiet_until = count + 1, look.at_s + refractory_s
    return count


def choose(
    positives: Sequence[tuple[Sequence[Look], float]],
    negatives: Sequence[Look],
    negative_hours: float,
    allowed_per_hour: float | None,
    refractory_s: float,
) -> LookChoice:
    """The (factor, threshold) with the fewest misses of `positives` (each its looks and its
    phrase's end) whose false accepts on `negatives` stay within the budget; ties to the higher
    threshold, then the smaller factor. No look where none misses fewer than the head alone.
    The choice names no family: the caller knows them."""

    def misses(factor: float | None, threshold: float) -> int:
        return sum(not caught(looks, end_s, factor, threshold) for looks, end_s in positives)

    missed_alone = misses(None, 1.0)
    accepts_alone = false_accepts(negatives, None, 1.0, refractory_s)
    alone = LookChoice(
        None, (), len(positives), missed_alone, missed_alone, negative_hours,
        accepts_alone, accepts_alone,
    )  # fmt: skip
    budget = max(int((allowed_per_hour or 0.0) * negative_hours), alone.false_accepts)
    best = alone
    for threshold in THRESHOLDS:
        for factor in FACTORS:
            accepts = false_accepts(negatives, factor, threshold, refractory_s)
            missed = misses(factor, threshold)
            if accepts > budget or missed >= best.misses:
                continue  # a tie keeps the one tried first
            spec = SecondLookSpec(LOW, threshold, factor)
            best = dataclasses.replace(alone, spec=spec, misses=missed, false_accepts=accepts)
    return best


def choose_second_look(
    frontend: WakeFrontend,
    head: WakeHead,
    tuning: dict[str, list[dataset.Positive]],
    negatives: np.ndarray,
    allowed_per_hour: float | None,
) -> LookChoice:
    """Trace the head on the tuning phrases and the dev set's ordinary speech; choose."""
    traced = [
        (trace_looks(frontend, head, p.clip), p.end_sample / SAMPLE_RATE_HZ)
        for family, clips in tuning.items()
        for p in tqdm(clips, desc=f"second look: {family}", unit="clip", disable=None)
    ]
    negative_looks = trace_looks(frontend, head, negatives, "second look: dev negatives")
    hours = len(negatives) / SAMPLE_RATE_HZ / 3600
    choice = choose(traced, negative_looks, hours, allowed_per_hour, head.spec.refractory_s)
    log.info(
        "second look: %s (%d of %d missed, head alone %d)",
        choice.spec, choice.misses, choice.positives, choice.misses_alone,
    )  # fmt: skip
    return dataclasses.replace(choice, families=tuple(tuning))


def with_second_look(
    frontend: WakeFrontend,
    store: ModelStore,
    catalog: Catalog,
    spec: WakeWordSpec,
    recipes: Sequence[WakeWordRecipe],
    negatives: np.ndarray,
) -> tuple[WakeWordSpec, LookChoice | None]:
    """The head's spec with the look chosen for it (see `choose_second_look`), and the choice;
    as it was, and None, where the first recipe asks for no look."""
    first = recipes[0]
    if first.second_look_positives == 0:
        return spec, None
    kokoro = catalog.get(KOKORO_MODEL)
    has_kokoro = store.status(kokoro) is ModelStatus.PRESENT
    families = untrained_families(recipes, has_kokoro)
    if not families:
        log.warning("no voice family is left apart from training: no second look is chosen")
        return spec, LookChoice(None, (), 0, 0, 0, 0.0, 0, 0)
    synth = Synthesizer(None, store.require(kokoro) if has_kokoro else None)
    tuning = tuning_positives(
        synth, first.phrase, families, first.second_look_positives, first.seed
    )
    choice = choose_second_look(
        frontend, WakeHead(spec), tuning, negatives, first.max_false_accepts_per_hour
    )
    return dataclasses.replace(spec, second_look=choice.spec), choice


def manifest_fields(choice: LookChoice | None) -> dict[str, object]:
    """What a head's manifest says of its second look: the look (as edgeai.ears.wake.words
    reads it), the rule that chose it and what it was chosen on."""
    if choice is None:
        return {}
    look = choice.spec
    chosen = {} if look is None else {"second_look": dataclasses.asdict(look)}
    return {**chosen, "second_look_rule": choice.rule(), "second_look_tuning": choice.summary()}
