"""`edgeai run`: the service. Under systemd it reports READY/STATUS/WATCHDOG; SIGHUP reloads the
config, SIGTERM or Ctrl-C stops it."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path

import click

from edgeai.audio.sinks import AudioSink, ReplyFiles
from edgeai.audio.sources import AudioSource, FileSource, RawPcmSource
from edgeai.cli.context import pass_app
from edgeai.config import CameraSettings
from edgeai.device.profiles import Profile
from edgeai.runtime.context import AppContext
from edgeai.service.loops import Inputs
from edgeai.service.service import Service
from edgeai.vision.build import build_camera
from edgeai.vision.camera import Camera

HANDLED = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


@click.command("run")
@click.option(
    "--audio",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
    help="Listen to this WAV/FLAC file, or '-' for raw 16-bit PCM on stdin, not the microphone.",
)
@click.option("--pcm-rate", default=16000, show_default=True, help="Sample rate of '--audio -'.")
@click.option("--camera", "camera_target", help="Watch this file, folder or URL instead.")
@click.option(
    "--replies",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write spoken replies as WAV files here instead of playing them.",
)
@click.option("--fast", is_flag=True, help="Read --audio and --camera files as fast as they go.")
@pass_app
def run(
    app: AppContext,
    audio: str | None,
    pcm_rate: int,
    camera_target: str | None,
    replies: Path | None,
    fast: bool,
) -> None:
    """Run the assistant as a service: microphone, camera, HTTP API, MQTT."""
    inputs = Inputs(
        audio=_audio_input(audio, pcm_rate, fast),
        camera=_camera_input(camera_target, fast),
        open_sink=_reply_files(replies),
    )
    # every thread started from here on inherits the mask: only this one takes the signals
    signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    service = Service(app.config_source, inputs, verbosity=app.verbosity)
    try:
        service.start()
        while signal.sigwait(HANDLED) == signal.SIGHUP:
            service.reload()
    finally:
        service.stop()


def _audio_input(audio: str | None, pcm_rate: int, fast: bool) -> Callable[[], AudioSource] | None:
    if audio is None:
        return None
    if audio == "-":
        return lambda: RawPcmSource(sys.stdin.buffer, pcm_rate, 1)
    path = Path(audio)
    return lambda: FileSource(path, realtime=not fast)


def _camera_input(
    target: str | None, fast: bool
) -> Callable[[CameraSettings, Profile], Camera] | None:
    if target is None:
        return None

    def open_camera(settings: CameraSettings, profile: Profile) -> Camera:
        return build_camera(target, settings, profile, realtime=not fast)

    return open_camera


def _reply_files(folder: Path | None) -> Callable[[int], AudioSink] | None:
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return ReplyFiles(folder).open
