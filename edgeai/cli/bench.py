"""`edgeai bench`: measure on this machine; results as JSON and markdown in --out."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgeai.bench.wake import bench_wake
from edgeai.cli.context import AppContext, pass_app
from edgeai.wake.frontend import WakeFrontend
from edgeai.wake.words import resolve_wake_word


@click.group("bench")
def bench_group() -> None:
    """Benchmarks: wake word accuracy and cost."""


@bench_group.command("wake")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default="bench-results",
    show_default=True,
    help="Folder for wake.json and wake.md.",
)
@click.option(
    "--positives", type=int, default=300, show_default=True, help="Dev clips of the phrase."
)
@click.option(
    "--negative-minutes",
    type=float,
    default=60.0,
    show_default=True,
    help="Minutes of speech and noise without the phrase.",
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Draw of the dev set.")
@pass_app
def wake(app: AppContext, out: Path, positives: int, negative_minutes: float, seed: int) -> None:
    """False-reject rate, false accepts per hour, delay and CPU of each configured wake word.

    The dev set uses espeak-ng voices, sentences, near-miss phrases and noises that the
    trainer never uses for training.
    """
    profile = app.active_profile()
    wake_role, vad_role = profile.roles["wake"], profile.roles["vad"]
    frontend = WakeFrontend(app.store.require(app.catalog.get(wake_role.model)))
    vad_model = app.store.main_file(app.catalog.get(vad_role.model))
    out.mkdir(parents=True, exist_ok=True)
    results, markdown = [], []
    for word in app.config.wake.words:
        spec = resolve_wake_word(word)
        phrase = word.name.replace("_", " ")
        result = bench_wake(frontend, spec, vad_model, phrase, positives, negative_minutes, seed)
        results.append(result.as_dict())
        markdown.append(result.markdown())
        click.echo(result.markdown())
    (out / "wake.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "wake.md").write_text("\n".join(markdown))
    click.echo(f"written: {out / 'wake.json'}, {out / 'wake.md'}")


@bench_group.command("voice")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default="bench-results",
    show_default=True,
    help="Folder for voice.json and voice.md.",
)
@pass_app
def voice(app: AppContext, out: Path) -> None:
    """End of speech to first reply audio, edgeai against a sequential pipeline, same clips.

    Clips: 8 requests (4 local intents, 4 LLM questions) x 3 voices and noise levels, each
    after "hey jarvis", played in real time.
    """
    from tqdm import tqdm

    from edgeai.audio.sinks import NullSink
    from edgeai.bench import voice as bench
    from edgeai.synthetic.speech import Synthesizer
    from edgeai.voice.build import build_voice_loop, load_voice_models
    from edgeai.voice.loop import VoiceLoop

    profile = app.active_profile()
    # the clips set and cancel timers: keep them out of the user's own timers
    out.mkdir(parents=True, exist_ok=True)
    voice_settings = app.config.voice.model_copy(update={"timers_file": out / "bench-timers.json"})
    config = app.config.model_copy(update={"voice": voice_settings})
    models = load_voice_models(config, profile, app.store, app.catalog)
    synth = Synthesizer(app.store.main_file(app.catalog.get(profile.roles["tts"].model)))

    def make_loop() -> VoiceLoop:
        return build_voice_loop(
            config, profile, app.store, app.catalog, models, lambda rate: NullSink()
        )

    total = len(bench.REQUESTS) * len(bench.VOICES)
    with tqdm(total=total, desc="voice turns", unit="clip", disable=None) as bar:
        results = bench.bench_voice(models, make_loop, config, synth, lambda _: bar.update())
    totals = bench.summary(results)
    (out / "voice.json").write_text(
        json.dumps({"summary": totals, "clips": bench.as_rows(results)}, indent=2) + "\n"
    )
    (out / "voice.md").write_text(bench.markdown(results, totals))
    click.echo(bench.markdown(results, totals))
    click.echo(f"written: {out / 'voice.json'}, {out / 'voice.md'}")


@bench_group.command("vision")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default="bench-results",
    show_default=True,
    help="Folder for vision.json, vision.md and the generated clip.",
)
@click.option("--seconds", type=float, default=36.0, show_default=True, help="Clip length.")
@pass_app
def vision(app: AppContext, out: Path, seconds: float) -> None:
    """Camera loop CPU (still, light change, cat, person), detector speed and event latency,
    on a generated front-door clip with ground truth, played in real time at 640x480, 15 fps."""
    from tqdm import tqdm

    from edgeai.bench.vision import bench_vision
    from edgeai.synthetic.scene import SceneScript
    from edgeai.vision.build import default_detector

    detector = default_detector(app.config, app.active_profile(), app.store, app.catalog)
    out.mkdir(parents=True, exist_ok=True)
    script = SceneScript(seconds=max(seconds, 36.0))
    with tqdm(total=round(script.seconds), unit="s", desc="clip played") as bar:

        def advance(t: float) -> None:
            bar.update(max(0, int(t) - bar.n))

        result = bench_vision(detector, out, script, progress=advance)
    (out / "vision.json").write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    (out / "vision.md").write_text(result.markdown())
    click.echo(result.markdown())
    click.echo(f"written: {out / 'vision.json'}, {out / 'vision.md'}")


@bench_group.command("service")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default="bench-results",
    show_default=True,
    help="Folder for service.json, service.md and the generated scene.",
)
@click.option(
    "--api-seconds", type=float, default=60.0, show_default=True, help="API load phase length."
)
@click.option(
    "--soak-minutes", type=float, default=10.0, show_default=True, help="Soak phase length."
)
@pass_app
def service(app: AppContext, out: Path, api_seconds: float, soak_minutes: float) -> None:
    """The whole service on the default models: API latency at 100 requests/s while the loops
    run in real time, then resident memory over a soak with the sources as fast as they go."""
    from tqdm import tqdm

    from edgeai.bench.service import bench_service
    from edgeai.cli.demo import demo_audio

    out.mkdir(parents=True, exist_ok=True)
    with tqdm(total=2.0, desc="api, then soak", bar_format="{l_bar}{bar}| {elapsed}") as bar:

        def advance(phase: str, fraction: float) -> None:
            bar.n = min(1.0, fraction) + (1.0 if phase == "soak" else 0.0)
            bar.refresh()

        result = bench_service(
            app.config, app.config_source, out, demo_audio(None), api_seconds,
            soak_minutes * 60, advance,
        )  # fmt: skip
    (out / "service.json").write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    (out / "service.md").write_text(result.markdown())
    click.echo(result.markdown())
    click.echo(f"written: {out / 'service.json'}, {out / 'service.md'}")
