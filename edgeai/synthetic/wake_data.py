"""Training and dev data for a wake phrase, kept apart: different voices, texts and noises.

Positives are the phrase in many voices, placed in a background with its end at a known time;
negatives are ordinary speech, near-miss phrases and noise.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import float_to_int16, int16_to_float
from edgeai.errors import EdgeAIError
from edgeai.synthetic.augment import augment, mix_at_snr, noise, noise_floor
from edgeai.synthetic.echo import (
    OWN_LEVELS_DB,
    REPLIES,
    REPLY_STYLES,
    EchoPath,
    during_playback,
    echo_residue,
    rms,
    through_canceller,
)
from edgeai.synthetic.kokoro import KokoroVoice, kokoro_voices
from edgeai.synthetic.rooms import Room
from edgeai.synthetic.speakers import any_speaker, as_speaker
from edgeai.synthetic.speech import (
    PICO_LANGUAGES,
    EspeakVoice,
    PicoVoice,
    PiperStyle,
    Synthesizer,
    Voice,
    espeak_phonemes,
    voiced,
)

# Which espeak-ng voices and variants each split speaks with: no overlap.
_TRAIN_LANGS = ("en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland")
_TRAIN_VARIANTS = ("m1", "m2", "m3", "m4", "f1", "f2", "f3", "klatt", "Andy", "adam", "Alex")
_DEV_LANGS = ("en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
_DEV_VARIANTS = ("m5", "m6", "m7", "f4", "f5", "klatt3", "john", "linda", "david")
_MORE_TRAIN_VARIANTS = (
    "Alicia", "Andrea", "Annie", "AnxiousAndy", "Denis", "Diogo", "Gene", "Gene2", "Henrique",
    "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen", "RicishayMax", "Storm",
    "Tweaky", "anika", "antonio", "aunty", "belinda", "benjamin", "boris", "caleb", "ed",
    "edward", "edward2", "grandma", "grandpa", "gustave", "iven", "iven2", "iven3", "iven4",
    "klatt2", "klatt4", "klatt5", "klatt6", "m8", "marcelo", "max", "michel", "miguel",
    "norbert", "pablo", "paul", "pedro", "quincy", "rob", "robert", "sandro", "shelby", "steph",
    "steph2", "steph3", "travis", "victor", "whisper", "whisperf", "zac",
)  # fmt: skip
"""More of espeak-ng's variants for training speakers (none of the dev ones)."""

_TRAIN_SENTENCE_PARTS = (
    ("I think", "She said", "Tomorrow we", "My brother", "The neighbours", "Every morning I"),
    ("will bake", "forgot", "painted", "ordered", "found", "carried"),
    ("a loaf of bread", "the old bicycle", "three green apples", "the garden fence", "a new lamp"),
    ("before lunch.", "in the kitchen.", "after the rain.", "for the children.", "at noon."),
)
_DEV_SENTENCE_PARTS = (
    ("Honestly, the", "Our teacher", "Last summer the", "Maybe your", "The train driver"),
    ("quietly opened", "washed", "borrowed", "fixed", "sold", "counted"),
    ("the blue window", "some paper cups", "a heavy suitcase", "the football", "two tickets"),
    ("on Sunday.", "near the station.", "without a word.", "by the river.", "last night."),
)


WORD_LIST = Path("/usr/share/dict/words")
"""Debian's wamerican: ~100k English words, so negatives are not a handful of templates."""
_FUNCTION_WORDS = (
    "the", "a", "to", "and", "of", "I", "you", "it", "is", "in", "that", "we", "was", "for",
    "on", "with", "my", "your", "this", "they", "but", "not", "so", "can", "will", "just",
)  # fmt: skip


@dataclass(frozen=True)
class Variety:
    """Shares of a split's spoken clips said by a new speaker (see speakers.py), in one of
    `rooms` (see rooms.py), and of all its clips placed in a quiet room instead of noise;
    of its positives said over a reply's echo (`talk_over`) or during a reply through the
    canceller (`cancelled_talk_over`), and of its negatives that are
    the canceller's residue of a reply (`echo_residue`), both from `replies` played through
    `echo_paths` (see echo.py).

    0, the default and the dev split's, draws nothing: sets without them stay as they were.
    """

    new_speakers: float = 0.0
    room_share: float = 0.0
    rooms: tuple[Room, ...] = ()
    quiet: float = 0.0
    talk_over: float = 0.0
    echo_residue: float = 0.0
    echo_paths: tuple[EchoPath, ...] = ()
    replies: tuple[np.ndarray, ...] = ()
    """int16 speech of the kind the device says: its replies, and other talkers' sentences."""
    cancelled_talk_over: float = 0.0
    """Share of positives said while a reply plays, heard through the canceller (see
    `over_reply`)."""


QUIET_FLOOR_DBFS = (-90.0, -60.0)
DIGITAL_SILENCE = 0.4
"""A quiet clip's background: digital silence (a noise-gated microphone) this often, else a
pink floor drawn from QUIET_FLOOR_DBFS."""


@dataclass(frozen=True)
class Split:
    name: str
    voices: tuple[Voice, ...]
    noise_kinds: tuple[str, ...]
    sentence_parts: tuple[tuple[str, ...], ...]
    snr_db: tuple[float, float]
    words: tuple[str, ...]
    """Dictionary words this split's free-form sentences use; the splits share none."""
    variety: Variety = Variety()


def _split_words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not WORD_LIST.is_file():
        raise EdgeAIError(f"{WORD_LIST} is missing: apt-get install wamerican")
    words = sorted(
        {
            w
            for w in WORD_LIST.read_text().split()
            if w.isalpha() and w.islower() and 2 <= len(w) <= 12
        }
    )
    train = tuple(w for w in words if zlib.crc32(w.encode()) % 2 == 0)
    dev = tuple(w for w in words if zlib.crc32(w.encode()) % 2 == 1)
    return train, dev


def make_splits(
    rng: np.random.Generator, with_piper: bool, pico: float = 0.0, kokoro: float = 0.0
) -> tuple[Split, Split]:
    """The training and dev splits; `pico` and `kokoro` are the shares of training voices that
    are SVOX Pico's and Kokoro's (0: none, and the splits stay as they were)."""

    def espeak(langs: tuple[str, ...], variants: tuple[str, ...]) -> list[Voice]:
        return [
            EspeakVoice(f"{lang}+{variant}", int(rng.integers(120, 200)), int(rng.integers(25, 75)))
            for lang, variant in itertools.product(langs, variants)
        ]

    # fixed rate and pitch (every use jitters them), so the draws of the dev voices below, and
    # with them the dev set, stay as they were before these voices came
    more: list[Voice] = [
        EspeakVoice(f"{lang}+{variant}", 160, 50)
        for lang, variant in itertools.product(_TRAIN_LANGS, _MORE_TRAIN_VARIANTS)
    ]
    espeak_train = espeak(_TRAIN_LANGS, _TRAIN_VARIANTS) + more
    # a piper entry is one voice with random styles: list it often enough for about a quarter
    # of the training clips to come from it
    piper: list[Voice] = (
        [PiperStyle(1.0, 0.667, 0.8)] * (len(espeak_train) // 3) if with_piper else []
    )
    total = (len(espeak_train) + len(piper)) / (1 - pico - kokoro)
    pico_voices: list[Voice] = [
        PicoVoice(PICO_LANGUAGES[i % len(PICO_LANGUAGES)], 100, 100)
        for i in range(round(pico * total))
    ]
    kokoro_kinds = kokoro_voices()
    kokoro_list: list[Voice] = [
        kokoro_kinds[i % len(kokoro_kinds)] for i in range(round(kokoro * total))
    ]
    train_words, dev_words = _split_words()
    train = Split(
        "train",
        tuple(espeak_train + piper + pico_voices + kokoro_list),
        ("white", "pink", "brown", "babble"),
        _TRAIN_SENTENCE_PARTS,
        (0.0, 25.0),
        train_words,
    )
    dev = Split(
        "dev",
        tuple(espeak(_DEV_LANGS, _DEV_VARIANTS)),
        ("hum", "fan", "babble"),
        _DEV_SENTENCE_PARTS,
        (5.0, 25.0),
        dev_words,
    )
    return train, dev


def near_misses(phrase: str) -> tuple[list[str], list[str]]:
    """Phrases that sound close to the wake phrase: (training ones, dev ones).

    Parts of the phrase, and each word with a letter swapped, which espeak pronounces as a
    similar-sounding word ("jarvis" -> "carvis", "jarvas").
    """
    words = phrase.split()
    variants = []
    for index, word in enumerate(words):
        for old, new in _SOUND_SWAPS:
            if old in word:
                changed = [*words[:index], word.replace(old, new, 1), *words[index + 1 :]]
                variants.append(" ".join(changed))
    variants = sorted(set(variants) - {phrase})
    partial = [" ".join(words[:i]) for i in range(1, len(words))] + words[1:]
    train = sorted(set(partial + variants[::2]) - {phrase})
    dev = sorted(set(variants[1::2]) - {phrase} - set(train)) or [f"{phrase} {phrase.split()[-1]}"]
    return train, dev


# letter swaps that change the sound a little (none that leave it the same, like hey -> hay)
_SOUND_SWAPS = (
    ("j", "g"), ("j", "ch"), ("a", "o"), ("i", "e"), ("o", "u"), ("u", "o"), ("v", "b"),
    ("c", "g"), ("t", "d"), ("p", "b"), ("r", "l"), ("m", "n"), ("h", ""),
)  # fmt: skip


def sentences(split: Split, rng: np.random.Generator, phrase: str) -> Iterator[str]:
    """Endless sentences: a quarter from templates, the rest free-form from the split's words
    mixed with everyday function words (phonetically varied, if not always grammatical).

    None contains the phrase, even inside a word: the word list has "stop", "stops", "nonstop".
    """
    return (text for text in _any_sentences(split, rng) if phrase.lower() not in text.lower())


def _any_sentences(split: Split, rng: np.random.Generator) -> Iterator[str]:
    while True:
        if rng.random() < 0.25:
            yield " ".join(str(rng.choice(part)) for part in split.sentence_parts)
            continue
        length = int(rng.integers(4, 12))
        yield (
            " ".join(
                str(rng.choice(_FUNCTION_WORDS))
                if rng.random() < 0.4
                else str(rng.choice(split.words))
                for _ in range(length)
            ).capitalize()
            + "."
        )


def place(
    speech: np.ndarray,
    split: Split,
    rng: np.random.Generator,
    babble: np.ndarray | None,
    lead_s: float,
    tail_s: float,
    under: tuple[np.ndarray, float] | None = None,
) -> tuple[np.ndarray, int]:
    """Speech on a background: (clip, sample index where the speech ends); with `under`
    (float speech, dB), that speech that far under the speech's level, through it."""
    lead, tail = int(lead_s * SAMPLE_RATE_HZ), int(tail_s * SAMPLE_RATE_HZ)
    variety = split.variety
    room = None
    if variety.room_share and rng.random() < variety.room_share:
        room = variety.rooms[int(rng.integers(0, len(variety.rooms)))]
    voice = int16_to_float(augment(speech, rng, room))
    total = lead + len(voice) + tail
    padded = np.concatenate([np.zeros(lead, np.float32), voice, np.zeros(tail, np.float32)])
    # drawn before the background, and only with `under`: other clips stay as they were
    other = 0.0 if under is None else talk_under(voice, lead, total, *under, rng)
    if variety.quiet and rng.random() < variety.quiet:
        if rng.random() < DIGITAL_SILENCE:
            return float_to_int16(padded + other), lead + len(voice)
        floor = noise_floor(total, rng.uniform(*QUIET_FLOOR_DBFS), rng)
        return float_to_int16(padded + other + floor), lead + len(voice)
    background = any_background(split, total, rng, babble)
    snr = rng.uniform(*split.snr_db)
    clip = mix_at_snr(padded, background, snr) if rng.random() < 0.85 else padded
    return float_to_int16(clip + other), lead + len(voice)


TALK_OVER_DB = (10.0, 40.0)
"""How far under the phrase a talk-over clip's other speech is: the canceller leaves a reply's
echo 2-15 dB under a talker, and the heads missed words under speech 10-40 dB down."""


def talk_under(
    voice: np.ndarray, lead: int, total: int, other: np.ndarray, level_db: float,
    rng: np.random.Generator,
) -> np.ndarray:  # fmt: skip
    """A `total`-sample float track of `other` speech `level_db` under `voice` (voiced-part
    levels, see echo.rms), starting at a random point so that it runs through the phrase's
    middle when it is long enough."""
    scaled = other * rms(voice) / (rms(other) + 1e-12) * 10 ** (-level_db / 20)
    middle = lead + len(voice) // 2
    start = int(rng.integers(max(0, middle - len(scaled) + 1), middle + 1))
    track = np.zeros(total, np.float32)
    kept = scaled[: total - start]
    track[start : start + len(kept)] = kept
    return track


def talk_over_speech(split: Split, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """One of the split's replies through one of its echo paths (float), and how many dB under
    the phrase it goes."""
    variety = split.variety
    reply = variety.replies[int(rng.integers(0, len(variety.replies)))]
    path = variety.echo_paths[int(rng.integers(0, len(variety.echo_paths)))]
    return path.apply(int16_to_float(reply)), float(rng.uniform(*TALK_OVER_DB))


FRESH_ROOM = 0.5
"""Share of echo-residue negatives and cancelled talk-over positives whose canceller starts
fresh (a new room, unconverged); the rest have first cancelled another reply in the same room."""


def reply_in_room(
    split: Split, rng: np.random.Generator
) -> tuple[np.ndarray, EchoPath, float, np.ndarray | None]:
    """One of the split's replies, one of its echo paths, a level the device's echo has in a
    room (dB over a talker), and the reply the canceller cancelled there first (None: a fresh
    room, FRESH_ROOM of the time)."""
    variety = split.variety
    replies, paths = variety.replies, variety.echo_paths
    reply = replies[int(rng.integers(0, len(replies)))]
    path = paths[int(rng.integers(0, len(paths)))]
    level = float(rng.uniform(*OWN_LEVELS_DB))
    warm_up = None if rng.random() < FRESH_ROOM else replies[int(rng.integers(0, len(replies)))]
    return reply, path, level, warm_up


ECHO_BEFORE_PHRASE_S = 0.3
"""A cancelled talk-over positive's reply starts at least this long before the phrase: the
heads missed words with faint speech before them, not after (BENCHMARKS.md)."""


def over_reply(clip: np.ndarray, lead: int, split: Split, rng: np.random.Generator) -> np.ndarray:
    """The positive `clip` (int16, its phrase from sample `lead`) said while the device plays
    one of the split's replies through one of its echo paths, from before the phrase, its echo
    at the device's levels against the talker, as the runtime's canceller hands it to the
    words (int16, as long): half in a fresh room, half after cancelling another reply there.
    What a user's word during playback sounds like to the heads, residue and all."""
    reply, path, level, warm_up = reply_in_room(split, rng)
    earlier = None
    if warm_up is not None:
        earlier = (warm_up, during_playback(warm_up, path, level, rng=rng))
    latest = max(1, lead - int(ECHO_BEFORE_PHRASE_S * SAMPLE_RATE_HZ))
    start = int(rng.integers(0, latest))
    played = np.zeros(len(clip), np.int16)
    kept = reply[: len(clip) - start]
    played[start : start + len(kept)] = kept
    heard = through_canceller(played, during_playback(played, path, level, clip, 0.0, rng), earlier)
    return np.concatenate([heard, np.zeros(len(clip) - len(heard), np.int16)])


def residue_negative(split: Split, rng: np.random.Generator) -> np.ndarray:
    """The canceller's residue (int16) of one of the split's replies through one of its echo
    paths, at a level the device's echo has in a room."""
    reply, path, level, warm_up = reply_in_room(split, rng)
    return echo_residue(reply, path, level, rng, warm_up)[0]


REPLY_SENTENCES = 80
"""Sentences of the split spoken as replies, beside REPLIES, in a build's reply pool."""


def reply_pool(
    synth: Synthesizer, split: Split, rng: np.random.Generator, phrase: str
) -> tuple[np.ndarray, ...]:
    """Speech of the kind the device says: REPLIES (those without the phrase: the device's own
    word is the own-word check's, and a head taught that its phrase is a negative misses it) in
    the device's Piper styles, and REPLY_SENTENCES of the split's sentences, half by the device,
    half by the split's other voices. A reply that gives no sound fails the build, named."""
    texts = sentences(split, rng, phrase)
    said: list[tuple[str, Voice]] = [
        (text, REPLY_STYLES[i % len(REPLY_STYLES)])
        for i, text in enumerate(t for t in REPLIES if phrase.lower() not in t.lower())
    ]
    for i in range(REPLY_SENTENCES):
        voice = REPLY_STYLES[i % len(REPLY_STYLES)] if i % 2 else any_voice(split, rng)
        said.append((next(texts), jitter(voice, rng)))
    pool = []
    for text, voice in said:
        speech = voiced(synth.speak(text, voice))
        if not len(speech):
            raise EdgeAIError(f"reply {text!r} by {voice.label}: gave no sound")
        pool.append(speech)
    return tuple(pool)


def speaker_of(speech: np.ndarray, split: Split, rng: np.random.Generator) -> np.ndarray:
    """The speech as it is, or (a share `new_speakers` of the time) said by a new speaker."""
    share = split.variety.new_speakers
    if share and rng.random() < share:
        return as_speaker(speech, any_speaker(rng))
    return speech


def any_background(
    split: Split, samples: int, rng: np.random.Generator, babble: np.ndarray | None
) -> np.ndarray:
    """Unit-level float noise of one of the split's kinds; babble from `babble` if long enough."""
    kind = str(rng.choice(split.noise_kinds))
    if kind == "babble" and babble is not None and len(babble) > samples:
        start = int(rng.integers(0, len(babble) - samples))
        return int16_to_float(babble[start : start + samples])
    return noise("pink" if kind == "babble" else kind, samples, rng)


POSITIVE_LEAD_S = (1.6, 2.4)
"""Background before the phrase. A clip starts as a fresh stream does, from digital silence;
with less lead, the window a head learns to fire on (1.28 s, plus the front end's 0.76 s of
context) reaches back into that start, and a head learns the start of a stream as part of the
phrase: one trained so fired on the first words of a dev stream."""


@dataclass(frozen=True)
class Positive:
    clip: np.ndarray
    end_sample: int
    """Where the phrase ends in the clip."""


def positives(
    synth: Synthesizer, phrase: str, split: Split, count: int, rng: np.random.Generator,
    babble: np.ndarray | None, after_speech: float = 0.0, accents: float = 0.0,
    fast: float = 0.0,
) -> list[Positive]:  # fmt: skip
    """`count` clips, each spoken anew by a voice of the split with its own speed and pitch;
    a share `after_speech` of them right after other speech (see `after_other_speech`), a
    share `accents` of the espeak-ng ones with other English vowels (see `accented`), a share
    `fast` of them said at a fast talker's rate (see `hurried`)."""
    texts = [phrase, f"{phrase}!", f"{phrase.capitalize()}.", f"{phrase.capitalize()}?"]
    others = sentences(split, rng, phrase)
    out = []
    for _ in tqdm(range(count), desc=f"{split.name} positives", unit="clip", disable=None):
        voice = any_voice(split, rng)
        # no draw when the share is 0, so sets without fast clips stay as they were
        voice = hurried(voice, rng) if fast and rng.random() < fast else jitter(voice, rng)
        text = str(rng.choice(texts))
        # no draw when the share is 0 (the dev set's), so those sets stay as they were
        if accents and isinstance(voice, EspeakVoice) and rng.random() < accents:
            text = accented(phrase, voice, rng) or text
        speech = speaker_of(voiced(synth.speak(text, voice)), split, rng)
        lead_s = rng.uniform(*POSITIVE_LEAD_S)
        # no draw when the share is 0, so sets without such clips stay as they were
        if after_speech and rng.random() < after_speech:
            speech, lead_s = after_other_speech(
                synth, speech, voice, split, rng, next(others), lead_s
            )
        under = None
        if split.variety.talk_over and rng.random() < split.variety.talk_over:
            under = talk_over_speech(split, rng)
        clip, end = place(speech, split, rng, babble, lead_s, 0.6, under)
        share = split.variety.cancelled_talk_over
        if share and rng.random() < share:  # no draw at 0: sets without it stay as they were
            clip = over_reply(clip, int(lead_s * SAMPLE_RATE_HZ), split, rng)
        out.append(Positive(clip, end))
    return out


ACCENT_VOWELS: dict[str, tuple[str, ...]] = {
    "eI": ("e:", "E", "aI"), "A@": ("a:", "A:", "A@r", "a"), "A:": ("a:", "A@"),
    "aI": ("A:", "OI", "a:"), "oU": ("o:", "@U", "O:"), "@U": ("o:", "oU", "O:"),
    "i:": ("i", "I"), "I": ("i", "@", "E"), "u:": ("U",), "U": ("u:", "V"), "V": ("U", "@", "a"),
    "a": ("E", "a:", "A:"), "0": ("A:", "O:", "a"), "O:": ("o:", "0"), "3:": ("V", "E"),
    "E": ("e:", "a", "I"), "@": ("V", "I", "E"),
}  # fmt: skip
"""English vowels in espeak-ng's phoneme mnemonics, and how other English accents say them:
"hey" as "hay" (e:) or nearly "high" (aI), "jar" as "jah" (a:) or with its r (A@r). The
training voices speak four accents; users speak many more."""
_ACCENT_VOWEL = re.compile(
    "|".join(f"{re.escape(v)}(?!#)" for v in sorted(ACCENT_VOWELS, key=len, reverse=True))
)  # longest first ("A@" before "@"); not espeak-ng's reduced "a#"
VOWEL_CHANGED = 0.5
H_DROPPED = 0.5
"""Chance of each vowel's change, and of each word's leading h dropped ("'ey", West Midlands
and Cockney), in an accented positive."""


def accented(phrase: str, voice: EspeakVoice, rng: np.random.Generator) -> str | None:
    """The phrase's sounds in `voice` as another English accent might say them, as espeak-ng
    phoneme input ("[['e: dZ'a:vIs]]"); None when the draw changed nothing."""
    words = espeak_phonemes(phrase, voice).split()

    def vowel(found: re.Match[str]) -> str:
        options = ACCENT_VOWELS[found.group(0)]
        return str(rng.choice(options)) if rng.random() < VOWEL_CHANGED else found.group(0)

    said = []
    for word in words:
        if word.startswith("h") and len(word) > 1 and rng.random() < H_DROPPED:
            word = word[1:]
        said.append(_ACCENT_VOWEL.sub(vowel, word))
    return f"[[{' '.join(said)}]]" if said != words else None


SPEECH_BEFORE_GAP_S = (0.1, 1.0)
"""Pause between other speech and the phrase after it."""
SPEECH_BEFORE_LEVEL_DB = (-15.0, 3.0)
"""Peak of the speech before against the phrase's: a far talker or loudspeaker, or a near one."""
QUIET_LEAD_S = 0.3
"""Background kept at the clip's start before the speech before the phrase begins."""


def after_other_speech(
    synth: Synthesizer, phrase_speech: np.ndarray, voice: Voice, split: Split,
    rng: np.random.Generator, text: str, lead_s: float,
) -> tuple[np.ndarray, float]:  # fmt: skip
    """The phrase a moment after the end of a sentence, by the same talker or another one, in
    the same lead: (speech, background before it in seconds).

    A barge-in word ("stop") follows the question or the reply it cuts short; a head that only
    heard its word after a pause learns the pause, and misses it there.
    """
    talker = voice if rng.random() < 0.5 else jitter(any_voice(split, rng), rng)
    gap = np.zeros(int(rng.uniform(*SPEECH_BEFORE_GAP_S) * SAMPLE_RATE_HZ), np.int16)
    room = int((lead_s - QUIET_LEAD_S) * SAMPLE_RATE_HZ) - len(gap)
    before = int16_to_float(voiced(synth.speak(text, talker))[-room:])
    phrase_peak = np.max(np.abs(int16_to_float(phrase_speech))) + 1e-9
    level = 10 ** (rng.uniform(*SPEECH_BEFORE_LEVEL_DB) / 20) * phrase_peak
    before = before * level / (np.max(np.abs(before)) + 1e-9)
    speech = np.concatenate([float_to_int16(before), gap, phrase_speech])
    return speech, lead_s - (len(before) + len(gap)) / SAMPLE_RATE_HZ


def check_voices(synth: Synthesizer, split: Split) -> None:
    """Every voice of the split speaks: a missing or silent one fails the build, named, before
    an hour of synthesis finds it."""
    for voice in dict.fromkeys(_without_style(v) for v in split.voices):
        if not len(voiced(synth.speak("hello", voice))):
            raise EdgeAIError(f"{split.name} voice {voice.label}: gave no sound for 'hello'")


def _without_style(voice: Voice) -> Voice:
    """One voice per espeak-ng voice name or Pico language (rate and pitch aside); piper's one
    voice."""
    if isinstance(voice, EspeakVoice):
        return EspeakVoice(voice.voice, 160, 50)
    if isinstance(voice, PicoVoice):
        return PicoVoice(voice.language, 100, 100)
    if isinstance(voice, KokoroVoice):
        return replace(voice, speed=1.0)
    return PiperStyle(1.0, 0.667, 0.8)


def any_voice(split: Split, rng: np.random.Generator) -> Voice:
    """One of the split's voices, drawn from `rng` (one draw, as every data set counts on)."""
    return split.voices[int(rng.integers(0, len(split.voices)))]


@dataclass(frozen=True)
class Rates:
    """The speaking rates a voice is drawn at, per synthesizer."""

    espeak_wpm: tuple[int, int]
    pico_percent: tuple[int, int]
    kokoro_speed: tuple[float, float]
    piper_length: tuple[float, float]
    """Piper's length scale: smaller is faster."""


ORDINARY_RATES = Rates((110, 210), (75, 135), (0.8, 1.25), (0.75, 1.35))
FAST_RATES = Rates((210, 320), (135, 200), (1.25, 1.8), (0.5, 0.75))
"""A fast talker says "hey jarvis" in 0.35-0.5 s, where the ordinary rates rarely go under
0.55 s; heads trained on those alone miss a fifth or more of such phrases whichever
synthesizer says them."""


def jitter(voice: Voice, rng: np.random.Generator) -> Voice:
    """The same voice at a random speaking rate and pitch (or piper's noise settings)."""
    return at_rate(voice, rng, ORDINARY_RATES)


def hurried(voice: Voice, rng: np.random.Generator) -> Voice:
    """The same voice at a fast talker's rate, beyond `jitter`'s."""
    return at_rate(voice, rng, FAST_RATES)


def at_rate(voice: Voice, rng: np.random.Generator, rates: Rates) -> Voice:
    """The same voice at a rate drawn from `rates`, its pitch (or blend, or piper's noise
    settings) drawn too."""
    if isinstance(voice, EspeakVoice):
        wpm = int(rng.integers(*rates.espeak_wpm))
        return EspeakVoice(voice.voice, wpm, int(rng.integers(20, 80)))
    if isinstance(voice, PicoVoice):
        speed = int(rng.integers(*rates.pico_percent))
        return PicoVoice(voice.language, speed, int(rng.integers(70, 145)))
    if isinstance(voice, KokoroVoice):
        blended = voice.speakers[0] != voice.speakers[1]
        share = rng.uniform(0.3, 0.7) if blended else 1.0
        return replace(voice, share=share, speed=rng.uniform(*rates.kokoro_speed))
    length = rng.uniform(*rates.piper_length)
    return PiperStyle(length, rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.2))


TRAIN_NEGATIVE_MIX = {"sentence": 0.7, "near_miss": 0.15, "noise": 0.15}
ORDINARY_MIX = {"sentence": 0.75, "noise": 0.25}
"""What false accepts per hour are counted on: ordinary speech and noise."""


def negatives(
    synth: Synthesizer, phrase: str, split: Split, seconds: float, rng: np.random.Generator,
    babble: np.ndarray | None, mix: dict[str, float],
) -> list[np.ndarray]:  # fmt: skip
    """About `seconds` of clips without the phrase: sentences, near misses and noise in `mix`."""
    train_misses, dev_misses = near_misses(phrase)
    misses = train_misses if split.name == "train" else dev_misses
    texts = sentences(split, rng, phrase)
    kinds, weights = list(mix), np.array(list(mix.values())) / sum(mix.values())
    clips: list[np.ndarray] = []
    total = 0.0
    bar = tqdm(total=round(seconds), desc=f"{split.name} negatives", unit="s", disable=None)
    residue = split.variety.echo_residue
    while total < seconds:
        if residue and rng.random() < residue:  # no draw at 0: sets stay as they were
            clip = residue_negative(split, rng)
        else:
            clip = _negative(synth, split, rng, babble, kinds, weights, texts, misses)
        clips.append(clip)
        total += len(clip) / SAMPLE_RATE_HZ
        bar.update(len(clip) / SAMPLE_RATE_HZ)
    bar.close()
    return clips


def _negative(
    synth: Synthesizer, split: Split, rng: np.random.Generator, babble: np.ndarray | None,
    kinds: list[str], weights: np.ndarray, texts: Iterator[str], misses: list[str],
) -> np.ndarray:  # fmt: skip
    """One negative clip of a kind drawn by `weights`: a sentence, a near miss or noise."""
    kind = kinds[int(rng.choice(len(kinds), p=weights))]
    voice = jitter(any_voice(split, rng), rng)
    if kind == "sentence":
        speech = speaker_of(synth.speak(next(texts), voice), split, rng)
    elif kind == "near_miss":
        speech = speaker_of(synth.speak(str(rng.choice(misses)), voice), split, rng)
    else:
        speech = np.zeros(int(rng.uniform(1, 4) * SAMPLE_RATE_HZ), np.int16)
    clip, _ = place(speech, split, rng, babble, rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8))
    return clip


def babble_track(
    synth: Synthesizer, split: Split, seconds: float, rng: np.random.Generator, phrase: str
) -> np.ndarray:
    """Several overlapping talkers (none saying the phrase): the background of a busy room."""
    texts = sentences(split, rng, phrase)
    length = int(seconds * SAMPLE_RATE_HZ)
    track = np.zeros(length, np.float32)
    for _ in range(4):
        talker: list[np.ndarray] = []
        while sum(map(len, talker)) < length:
            voice = any_voice(split, rng)
            talker.append(int16_to_float(synth.speak(next(texts), voice)))
        track += np.concatenate(talker)[:length]
    return float_to_int16(track / 4)


@dataclass(frozen=True)
class DevSet:
    positives: list[Positive]
    ordinary: np.ndarray
    """One long stream of ordinary speech and noise: false accepts per hour."""
    near_misses: list[np.ndarray]
    """Clips of phrases that sound close to the wake phrase, reported on their own."""
    after_speech: list[Positive]
    """The phrase a moment after other speech, as a barge-in word is said; reported on its own."""


def dev_split(rng: np.random.Generator) -> Split:
    """The dev split: voices, sentences, near misses and noises training never uses."""
    return make_splits(rng, with_piper=False)[1]


def dev_set(
    synth: Synthesizer, phrase: str, positive_count: int, negative_seconds: float, seed: int,
    near_miss_count: int = 100, family: Callable[[np.random.Generator], Split] = dev_split,
) -> DevSet:  # fmt: skip
    """A dev set for `phrase` from the dev split only, or from another `family`'s split."""
    rng = np.random.default_rng(seed)
    dev = family(rng)
    babble = babble_track(synth, dev, 120.0, rng, phrase)
    found = positives(synth, phrase, dev, positive_count, rng, babble)
    ordinary = np.concatenate(
        negatives(synth, phrase, dev, negative_seconds, rng, babble, ORDINARY_MIX)
    )
    misses: list[np.ndarray] = []
    while len(misses) < near_miss_count:
        misses += negatives(synth, phrase, dev, 1.0, rng, babble, {"near_miss": 1.0})
    # drawn last, so the sets above stay what they were before these clips came
    after_count = max(1, positive_count // 3)
    after = positives(synth, phrase, dev, after_count, rng, babble, after_speech=1.0)
    return DevSet(found, ordinary, misses[:near_miss_count], after)
