"""`edgeai detect IMAGE` and `edgeai watch SOURCE`: the camera half from the command line."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

import click
import cv2

from edgeai.cli.context import json_option, pass_app
from edgeai.errors import CameraError
from edgeai.runtime.context import AppContext
from edgeai.vision.build import (
    CUT_GRAPHS,
    build_camera,
    build_camera_loop,
    default_detector,
    load_detector,
)
from edgeai.vision.detection import Detector, draw_detections
from edgeai.vision.events import CameraEvent
from edgeai.vision.rules import RuleRunner


@click.command("detect")
@click.argument("image", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--model",
    help="A detector from the catalog (default: the profile's), e.g. blazeface-short-range.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Annotated image (default: IMAGE's name + .detections.jpg beside it).",
)
@json_option
@pass_app
def detect(
    app: AppContext, image: Path, model: str | None, out: Path | None, as_json: bool
) -> None:
    """Print the boxes a detector finds in IMAGE and write an annotated copy."""
    picture = cv2.imread(str(image), cv2.IMREAD_COLOR) if image.is_file() else None
    if picture is None:
        raise CameraError(f"{image}: not a readable image (expected JPEG, PNG, BMP or WebP)")
    detector = _detector(app, model)
    found = detector.detect(picture)
    out = out or image.with_name(f"{image.stem}.detections.jpg")
    if not cv2.imwrite(str(out), draw_detections(picture, found)):
        raise CameraError(f"{out}: cannot write the annotated image there")
    if as_json:
        rows = [
            {"label": d.label, "score": round(d.score, 3), "box": d.box.as_list()} for d in found
        ]
        click.echo(json.dumps({"detections": rows, "annotated": str(out)}, indent=2))
        return
    for d in found:
        click.echo(f"{d.label:10s} {d.score:.2f}  box {d.box.as_list()}")
    click.echo(f"{len(found)} detections; annotated image: {out}")


@click.command("watch")
@click.argument("source", required=False)
@click.option(
    "--fast", is_flag=True, help="Read a file as fast as it goes (not at its frame rate)."
)
@click.option(
    "--events-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Store events and snapshots here (default: the config's events folder).",
)
@json_option
@pass_app
def watch(
    app: AppContext, source: str | None, fast: bool, events_dir: Path | None, as_json: bool
) -> None:
    """Watch SOURCE (camera device, stream URL, video file or image folder; default: the
    configured camera) and print events as they happen. Ctrl-C stops."""
    settings = app.config.camera
    profile = app.active_profile()
    detector = default_detector(
        app.config.camera.detector_min_score, profile, app.store, app.catalog
    )
    loop = build_camera_loop(
        settings, detector, source or settings.device, events_dir or settings.events.folder_path()
    )
    loop.bus.subscribe(RuleRunner(settings.rules, announce=None))

    def show(event: CameraEvent) -> None:
        if as_json:
            click.echo(json.dumps(event.as_dict()))
        else:
            click.echo(f"{event.frame_t:8.2f} s  {event.describe()}  {event.snapshot or ''}")

    loop.bus.subscribe(show)
    camera = build_camera(source or settings.device, settings, profile, realtime=not fast)
    with contextlib.suppress(KeyboardInterrupt):
        loop.run(camera, threading.Event())
    stats = loop.stats
    click.echo(
        f"{stats.frames} frames, {stats.motion_frames} with motion, "
        f"{stats.detector_runs} detector runs, {stats.events} events, "
        f"{camera.corrupt_frames} corrupt frames skipped",
        err=True,
    )


def _detector(app: AppContext, model: str | None) -> Detector:
    profile = app.active_profile()
    if model is None:
        return default_detector(app.config.camera.min_score, profile, app.store, app.catalog)
    entry = app.catalog.get(model)
    role = profile.roles["detector"]
    return load_detector(
        app.store.main_file(entry),
        role,
        profile,
        app.config.camera.min_score,
        app.store.root / CUT_GRAPHS,
    )
