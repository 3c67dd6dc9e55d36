"""`edgeai profile`: the device profiles and which one fits this machine."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from edgeai.cli.context import emit, json_option, pass_app
from edgeai.device.detection import detect_profile
from edgeai.device.host import REAL_ROOT, probe
from edgeai.runtime.context import AppContext


@click.group("profile")
def profile_group() -> None:
    """List, show and detect device profiles."""


@profile_group.command("list")
@json_option
@pass_app
def list_profiles(app: AppContext, as_json: bool) -> None:
    """Every device profile."""
    rows = [{"name": p.name, "description": p.description} for p in app.profiles]

    def render() -> None:
        for row in rows:
            click.echo(f"{row['name']:24} {row['description']}")

    emit(rows, as_json, render)


@profile_group.command("show")
@click.argument("name", required=False)
@json_option
@pass_app
def show(app: AppContext, name: str | None, as_json: bool) -> None:
    """A profile in full (default: the one this machine uses)."""
    profile = app.profiles.get(name) if name else app.active_profile()
    data = profile.model_dump(mode="json")
    emit(data, as_json, lambda: click.echo(yaml.safe_dump(data, sort_keys=False).rstrip()))


@profile_group.command("detect")
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=REAL_ROOT,
    show_default=True,
    help="Read the machine's facts below this folder (a mounted image, or a test fixture).",
)
@json_option
@pass_app
def detect(app: AppContext, root: Path, as_json: bool) -> None:
    """Which profile fits this machine, and why."""
    facts = probe(root)
    detection = detect_profile(facts, app.profiles)
    data = {
        "profile": detection.profile.name,
        "reasons": detection.reasons,
        "facts": {
            "arch": facts.arch,
            "cpu_model": facts.cpu_model,
            "cpu_count": facts.cpu_count,
            "memory_mb": facts.memory_mb,
            "device_tree_model": facts.device_tree_model,
            "tegra_release": facts.tegra_release,
            "intel_npu": facts.intel_npu,
            "openvino_devices": facts.openvino_devices,
            "onnxruntime_providers": facts.onnxruntime_providers,
        },
    }

    def render() -> None:
        click.echo(detection.profile.name)
        for reason in detection.reasons:
            click.echo(f"  because {reason}")

    emit(data, as_json, render)
