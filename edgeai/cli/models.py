"""`edgeai models`: the catalog and the local model store."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import click

from edgeai.cli.context import emit, json_option, pass_app
from edgeai.errors import EdgeAIError, ModelStoreError
from edgeai.models.catalog import CatalogEntry, LicenceFlag
from edgeai.runtime.context import AppContext
from edgeai.store import ModelStatus


@dataclass(frozen=True)
class ModelRow:
    name: str
    role: str
    format: str
    precision: str
    size_bytes: int
    licence: str
    licence_flag: str
    status: str
    default: bool
    """Used by the device profile in effect."""


@click.group("models")
def models_group() -> None:
    """List, pull, verify and locate models."""


@models_group.command("list")
@json_option
@pass_app
def list_models(app: AppContext, as_json: bool) -> None:
    """Every model in the catalog, its licence and whether it is in the store."""
    defaults = _default_names(app)
    rows = [
        ModelRow(
            name=entry.name,
            role=entry.role,
            format=entry.format,
            precision=entry.precision,
            size_bytes=entry.size_bytes,
            licence=entry.licence.spdx,
            licence_flag=entry.licence.flag.value,
            status=app.store.status(entry).value,
            default=entry.name in defaults,
        )
        for entry in app.catalog
    ]

    def render() -> None:
        click.echo(f"{'NAME':32} {'ROLE':8} {'FORMAT':11} {'SIZE':>8}  {'STATUS':8} LICENCE")
        for row in rows:
            mark = "*" if row.default else " "
            licence = row.licence
            if row.licence_flag != LicenceFlag.PERMISSIVE.value:
                licence = f"{licence}  ! {row.licence_flag}"
            click.echo(
                f"{row.name:31}{mark} {row.role:8} {row.format:11} "
                f"{_mib(row.size_bytes):>8}  {row.status:8} {licence}"
            )
        click.echo(f"* default for this device; store: {app.store.root}")

    emit([asdict(row) for row in rows], as_json, render)


@models_group.command("pull")
@click.argument("names", nargs=-1)
@click.option("--defaults", is_flag=True, help="Every model the device profile uses.")
@click.option("--offline", is_flag=True, help="Never touch the network; only check the store.")
@json_option
@pass_app
def pull(
    app: AppContext, names: tuple[str, ...], defaults: bool, offline: bool, as_json: bool
) -> None:
    """Fetch models into the store, verify their sha256 and put them in place atomically."""
    if not names and not defaults:
        raise click.UsageError("name at least one model, or use --defaults")
    entries = _entries(app, [*names, *(app.active_profile().default_models() if defaults else [])])
    results, failures = [], []
    for entry in entries:
        try:
            users = [p.name for p in app.profiles if entry.name in p.default_models()]
            result = app.store.pull(entry, offline=offline, profiles=users)
        except ModelStoreError as e:
            failures.append(str(e))
            if not as_json:
                click.echo(f"FAIL {entry.name}: {e}", err=True)
            continue
        results.append({"name": result.name, "source": result.source, "path": str(result.path)})
        if not as_json:
            how = f"pulled from {result.source}" if result.source else "already present"
            click.echo(f"ok   {entry.name}: {how} ({result.path})")
    emit({"pulled": results, "failed": failures}, as_json, lambda: None)
    if failures:
        raise click.ClickException(f"{len(failures)} of {len(entries)} models failed")


@models_group.command("verify")
@click.argument("names", nargs=-1)
@json_option
@pass_app
def verify(app: AppContext, names: tuple[str, ...], as_json: bool) -> None:
    """Re-hash stored models against the catalog (default: every model in the store)."""
    if names:
        entries = _entries(app, list(names))
    else:
        entries = [e for e in app.catalog if app.store.status(e) is not ModelStatus.MISSING]
    report = {entry.name: app.store.verify(entry) for entry in entries}

    def render() -> None:
        if not report:
            click.echo(f"no models in the store ({app.store.root})")
        for name, problems in report.items():
            click.echo(f"ok   {name}" if not problems else f"FAIL {name}: {'; '.join(problems)}")

    emit(report, as_json, render)
    bad = [name for name, problems in report.items() if problems]
    if bad:
        raise click.ClickException(
            f"{len(bad)} damaged: {', '.join(bad)}; `edgeai models pull` replaces them"
        )


@models_group.command("path")
@click.argument("name")
@pass_app
def path(app: AppContext, name: str) -> None:
    """Print the folder that holds a model's files."""
    click.echo(str(app.store.require(app.catalog.get(name))))


def _entries(app: AppContext, names: list[str]) -> list[CatalogEntry]:
    """Catalog entries for `names` in order, without repeats; unknown names fail before any work."""
    return [app.catalog.get(name) for name in dict.fromkeys(names)]


def _default_names(app: AppContext) -> set[str]:
    try:
        return set(app.active_profile().default_models())
    except EdgeAIError:
        return set()


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f}M"
