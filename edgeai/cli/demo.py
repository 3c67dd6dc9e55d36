"""`edgeai demo`: the bundled sample through the whole assistant loop, with its timeline."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgeai.audio.sinks import WavSink
from edgeai.audio.sources import FileSource
from edgeai.cli.context import AppContext, json_option, pass_app
from edgeai.paths import bundled_data_dir
from edgeai.voice.build import build_voice_loop, load_voice_models

SAMPLE = "hey_jarvis_what_time_is_it.wav"


@click.command("demo")
@click.option(
    "--source",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"Audio to run (default: the bundled {SAMPLE}).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default="demo-output",
    show_default=True,
    help="Reply WAV files go here.",
)
@click.option("--fast", is_flag=True, help="Read the audio as fast as it goes (timings not real).")
@json_option
@pass_app
def demo(app: AppContext, source: Path | None, out: Path, fast: bool, as_json: bool) -> None:
    """Wake word, speech-to-text, intents or LLM, and spoken reply, on a sample recording."""
    profile = app.active_profile()
    models = load_voice_models(app.config, profile, app.store, app.catalog)
    out.mkdir(parents=True, exist_ok=True)
    replies: list[Path] = []

    def open_sink(rate_hz: int) -> WavSink:
        replies.append(out / f"reply-{len(replies) + 1}.wav")
        return WavSink(replies[-1], rate_hz)

    loop = build_voice_loop(app.config, profile, app.store, app.catalog, models, open_sink)
    audio = FileSource(source or bundled_data_dir("samples") / SAMPLE, realtime=not fast)
    timelines = loop.run(audio)
    if as_json:
        click.echo(json.dumps([t.as_dict() for t in timelines], indent=2))
        return
    if not timelines:
        click.echo("no turn: the wake word was not heard")
    for timeline, wav in zip(timelines, replies, strict=False):
        click.echo(f"you:    {timeline.transcript}")
        click.echo(f"edgeai: {timeline.reply}  [{timeline.route}] -> {wav}")
        latency = timeline.latency_s
        speculative = (
            " (speech-to-text ran during the trailing silence)" if timeline.speculative_stt else ""
        )
        click.echo(
            f"end of speech to first audio: {latency * 1000:.0f} ms{speculative}"
            if latency is not None
            else "no audio"
        )
        click.echo(timeline.describe())
