"""`edgeai listen`: wake word and endpointing on a microphone, a file or stdin."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edgeai.audio.files import write_wav
from edgeai.audio.microphone import MicrophoneSource
from edgeai.audio.sources import AudioSource, FileSource, RawPcmSource
from edgeai.cli.context import json_option, pass_app
from edgeai.ears.listener import build_listener
from edgeai.messages import (
    ListenEvent,
    NoSpeech,
    SpeechEnded,
    SpeechPaused,
    SpeechStarted,
    StopWordHeard,
    WakeDetected,
)
from edgeai.runtime.context import AppContext


@click.command("listen")
@click.option(
    "--source",
    help="A WAV/FLAC file, or - for raw s16le PCM on stdin (default: the configured microphone).",
)
@click.option("--rate", type=int, default=16000, show_default=True, help="Rate of stdin PCM.")
@click.option("--channels", type=int, default=1, show_default=True, help="Channels of stdin PCM.")
@click.option("--realtime", is_flag=True, help="Pace a file like a live microphone.")
@click.option(
    "--save-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write each utterance to a WAV file here.",
)
@json_option
@pass_app
def listen(
    app: AppContext,
    source: str | None,
    rate: int,
    channels: int,
    realtime: bool,
    save_dir: Path | None,
    as_json: bool,
) -> None:
    """Print wake word, speech-start and speech-end events with stream timestamps."""
    listener = build_listener(app.config, app.active_profile(), app.store, app.catalog)
    audio: AudioSource
    if source is None:
        audio = MicrophoneSource(app.config.audio.input_device)
    elif source == "-":
        audio = RawPcmSource(sys.stdin.buffer, rate, channels)
    else:
        audio = FileSource(Path(source), realtime=realtime)
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
    for event in listener.run(audio):
        if isinstance(event, SpeechPaused):
            continue  # an internal hint for speculative speech-to-text
        if isinstance(event, SpeechEnded) and save_dir is not None:
            write_wav(save_dir / f"utterance-{event.at_s:09.2f}.wav", event.audio)
        click.echo(json.dumps(_as_dict(event)) if as_json else _as_text(event))


def _as_dict(event: ListenEvent) -> dict[str, object]:
    if isinstance(event, WakeDetected | StopWordHeard):
        kind = "wake" if isinstance(event, WakeDetected) else "stop-word"
        found: dict[str, object] = {"event": kind, "at_s": round(event.at_s, 3),
                                    "name": event.name, "score": round(event.score, 3)}  # fmt: skip
        if isinstance(event, WakeDetected) and event.second_look:
            found["second_look"] = True
        return found
    if isinstance(event, SpeechStarted):
        return {"event": "speech-start", "at_s": round(event.at_s, 3)}
    if isinstance(event, SpeechEnded):
        return {"event": "speech-end", "at_s": round(event.at_s, 3),
                "endpoint_at_s": round(event.endpoint_at_s, 3),
                "audio_s": round(event.duration_s, 3), "truncated": event.truncated}  # fmt: skip
    return {"event": "no-speech", "at_s": round(event.at_s, 3)}


def _as_text(event: ListenEvent) -> str:
    if isinstance(event, WakeDetected | StopWordHeard):
        looked = (
            ", on a second look" if isinstance(event, WakeDetected) and event.second_look else ""
        )
        detail = f"{event.name} (score {event.score:.2f}{looked})"
    elif isinstance(event, SpeechEnded):
        cut = ", cut at the maximum length" if event.truncated else ""
        detail = f"{event.duration_s:.2f} s of audio, endpoint at {event.endpoint_at_s:.2f} s{cut}"
    elif isinstance(event, NoSpeech):
        detail = "nothing said after the wake word"
    else:
        detail = ""
    name = _as_dict(event)["event"]
    return f"{event.at_s:8.2f} s  {name:<12} {detail}".rstrip()
