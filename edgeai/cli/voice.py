"""`edgeai transcribe`, `say` and `chat`: the voice turn's stages, one at a time or together."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import click

from edgeai.audio.files import read_audio
from edgeai.audio.sinks import AudioSink, NullSink, ReplyFiles, SpeakerSink, WavSink
from edgeai.cli.context import json_option, pass_app
from edgeai.runtime.compose import responder_for
from edgeai.runtime.context import AppContext
from edgeai.runtime.models import load_voice_models_for
from edgeai.runtime.remote import with_remote_stages
from edgeai.voice.stt import load_stt
from edgeai.voice.timeline import TurnTimeline
from edgeai.voice.tts import PiperTTS


@click.command("transcribe")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@json_option
@pass_app
def transcribe(app: AppContext, file: Path, as_json: bool) -> None:
    """Print the text of a WAV or FLAC file (any rate, any channels)."""
    audio = read_audio(file)
    role = app.active_profile().roles["stt"]
    stt = load_stt(role.engine, app.store.main_file(app.catalog.get(role.model)), role.threads)
    started = time.monotonic()
    text = stt.transcribe(audio)
    seconds = time.monotonic() - started
    if as_json:
        click.echo(json.dumps({"text": text, "audio_s": len(audio) / 16000, "stt_s": seconds}))
    else:
        click.echo(text)


@click.command("say")
@click.argument("text")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="WAV file.")
@pass_app
def say(app: AppContext, text: str, output: Path | None) -> None:
    """Speak TEXT on the speaker, or write it to a WAV file with -o."""
    role = app.active_profile().roles["tts"]
    tts = PiperTTS(app.store.main_file(app.catalog.get(role.model)), role.threads)
    sink: AudioSink = (
        WavSink(output, tts.sample_rate_hz)
        if output
        else SpeakerSink(app.config.audio.output_device, tts.sample_rate_hz)
    )
    chunks = 0
    try:
        for audio in tts.synthesize(text):
            sink.write(audio)
            chunks += 1
    finally:
        sink.close()
    if not chunks:
        raise click.ClickException(f"nothing speakable in {text!r}")


@click.command("chat")
@click.argument("text", required=False)
@click.option(
    "--voice",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A WAV/FLAC file holding one spoken request (no wake word needed).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write each spoken reply to reply-N.wav here.",
)
@json_option
@pass_app
def chat(
    app: AppContext, text: str | None, voice: Path | None, out: Path | None, as_json: bool
) -> None:
    """Talk to the assistant: TEXT once, lines from stdin, or a spoken request with --voice."""
    local = load_voice_models_for(app, app.active_profile())
    models = with_remote_stages(local, app.config)
    started = time.monotonic()
    responder = responder_for(app, models, lambda: time.monotonic() - started)
    if out:
        out.mkdir(parents=True, exist_ok=True)

    def requests() -> Iterator[tuple[str, float]]:
        """(request, when the user finished it): a spoken one may transcribe to nothing."""
        if voice:
            audio = read_audio(voice)
            finished = responder.clock()
            yield models.stt.transcribe(audio), finished
        elif text:
            yield text, responder.clock()
        else:
            for line in sys.stdin:
                if line.strip():
                    yield line.strip(), responder.clock()

    replies = ReplyFiles(out) if out else None
    for request, finished in requests():
        timeline = TurnTimeline(speech_end_s=finished, stt_done_s=responder.clock())
        rate_hz = models.tts.sample_rate_hz
        sink: AudioSink = replies.open(rate_hz) if replies else NullSink()
        try:
            responder.respond(request, sink, timeline, threading.Event())
        finally:
            sink.close()
        if as_json:
            click.echo(json.dumps(timeline.as_dict()))
        else:
            click.echo(
                f"you:    {timeline.transcript}\nedgeai: {timeline.reply}  [{timeline.route}]"
            )
            click.echo(timeline.describe())
