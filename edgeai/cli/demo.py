"""`edgeai demo`: bundled sample audio and a sample camera scene through the whole assistant:
wake word, speech-to-text, intents or LLM, spoken replies, and camera events that speak."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.files import read_audio
from edgeai.audio.sinks import ReplyFiles
from edgeai.audio.sources import ArraySource
from edgeai.cli.context import json_option, pass_app
from edgeai.config import CameraRule, CameraSettings
from edgeai.paths import bundled_data_dir
from edgeai.runtime.assistant import AssistantRun, run_assistant
from edgeai.runtime.compose import compose
from edgeai.runtime.context import AppContext
from edgeai.runtime.models import load_models, model_key
from edgeai.synthetic.scene import DEMO_SCENE, DOOR_ZONE, Sprites, ground_truth, write_clip
from edgeai.vision.build import build_camera

SAMPLES = ("hey_jarvis_what_time_is_it.wav", "hey_jarvis_what_do_you_see.wav")
SECOND_QUESTION_AT_S = 10.5
"""When the demo asks "what do you see": the person in the sample scene is at the door."""
DEMO_RULES = [
    CameraRule(on="person_entered", zone="door", say="Someone is at the door."),
    CameraRule(on="fall_detected", say="Someone may have fallen. Are you all right?"),
]


@click.command("demo")
@click.option(
    "--source",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Audio to run instead of the bundled two questions.",
)
@click.option(
    "--clip",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Video to watch instead of the generated front-door scene.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default="demo-output",
    show_default=True,
    help="Reply WAV files, the scene clip and camera events go here.",
)
@click.option("--fast", is_flag=True, help="Read audio and video as fast as they go.")
@json_option
@pass_app
def demo(
    app: AppContext, source: Path | None, clip: Path | None, out: Path, fast: bool, as_json: bool
) -> None:
    """Voice turns and camera events on bundled samples, with per-turn timelines."""
    profile = app.active_profile()
    models = load_models(app, model_key(app, profile, with_detector=True))
    out.mkdir(parents=True, exist_ok=True)
    camera_settings = _demo_camera_settings(app.config.camera)
    replies = ReplyFiles(out)
    assistant = compose(app, profile, models, replies.open, camera_settings, out / "events")
    clip = clip or _scene_clip(out)
    camera = build_camera(str(clip), camera_settings, profile, realtime=not fast)
    audio = ArraySource(demo_audio(source), realtime=not fast)
    run = run_assistant(assistant, audio, camera)
    if as_json:
        click.echo(json.dumps(_as_dict(run, replies.paths), indent=2))
        return
    _print_run(run, replies.paths, clip)


def _demo_camera_settings(settings: CameraSettings) -> CameraSettings:
    """The user's camera settings, with the sample scene's door zone and rules if they have none."""
    return settings.model_copy(
        update={
            "zones": settings.zones or {"door": [list(c) for c in DOOR_ZONE]},
            "rules": settings.rules or DEMO_RULES,
        }
    )


def _scene_clip(out: Path) -> Path:
    clip = out / "front_door.avi"
    if not clip.is_file():
        sprites = Sprites.load()
        write_clip(clip, DEMO_SCENE, sprites)
        truth = ground_truth(DEMO_SCENE, sprites).as_dict()
        (out / "front_door.truth.json").write_text(json.dumps(truth, indent=2))
    return clip


def demo_audio(source: Path | None) -> np.ndarray:
    if source is not None:
        return read_audio(source)
    first, second = (read_audio(bundled_data_dir("samples") / name) for name in SAMPLES)
    gap = max(0, int(SECOND_QUESTION_AT_S * SAMPLE_RATE_HZ) - len(first))
    return np.concatenate([first, np.zeros(gap, np.int16), second])


def _as_dict(run: AssistantRun, replies: list[Path]) -> dict[str, object]:
    return {
        "turns": [
            t.as_dict() | {"wav": str(w)} for t, w in zip(run.timelines, replies, strict=False)
        ],
        "camera_events": [e.as_dict() for e in run.events],
        "camera_error": run.camera_error,
    }


def _print_run(run: AssistantRun, replies: list[Path], clip: Path) -> None:
    if not run.timelines:
        click.echo("no turn: the wake word was not heard")
    for timeline, wav in zip(run.timelines, replies, strict=False):
        if timeline.route == "announcement":
            click.echo(f"edgeai (announcement): {timeline.reply} -> {wav}")
            continue
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
    click.echo(f"camera ({clip}):")
    for event in run.events:
        click.echo(f"  {event.frame_t:6.2f} s  {event.describe()}  snapshot {event.snapshot}")
    if run.camera_error:
        click.echo(f"  camera stopped: {run.camera_error}")
    elif not run.events:
        click.echo("  no events")
