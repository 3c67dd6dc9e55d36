"""PNG plots of benchmark results (matplotlib, drawn off-screen): where the time of a voice turn
goes, what the camera loop costs per phase, how the service's memory and API latency behave,
what each exported artifact gains and loses."""

from __future__ import annotations

import textwrap
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from edgeai.bench.echo import EchoBenchResult
    from edgeai.bench.export import ExportBench
    from edgeai.bench.home import HomeBench
    from edgeai.bench.intents import RoutingResult
    from edgeai.bench.probe import ProbeBench
    from edgeai.bench.service import ServiceBench
    from edgeai.bench.vision import VisionBench
    from edgeai.bench.vision_heldout import HeldOutBench
    from edgeai.bench.voice import ClipResult
    from edgeai.bench.wake import WakeBench
    from edgeai.bench.wyoming import WyomingBench

STAGE_COLOURS = ("#9e9e9e", "#4c72b0", "#dd8452", "#55a868")


def _figure(width: float = 9.0, height: float = 4.5, columns: int = 1) -> tuple[Figure, list[Axes]]:
    import matplotlib

    matplotlib.use("Agg")  # no display on a service machine
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, columns, figsize=(width, height), squeeze=False)
    return figure, list(axes[0])


def _save(figure: Figure, path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def voice_breakdown(results: list[ClipResult], path: Path) -> Path:
    """Per request kind: median time from end of speech to each stage, edgeai (stacked) beside
    the sequential pipeline on the same clips, per voice family; whiskers mark p95 of the first
    audio."""
    from edgeai.bench.voice import FAMILIES

    rows: list[tuple[str, list[float], float]] = []
    families = sorted({r.family for r in results}, key=FAMILIES.index)
    for family, (kind, label) in product(
        families, (("intent", "local intents"), ("llm", "LLM answers"))
    ):
        chosen = [
            r for r in results if r.kind == kind and r.family == family and r.latency_s is not None
        ]
        if not chosen:
            continue
        if len(families) > 1:
            label = f"{label}, {family}"
        ours = _stage_medians(
            [r.stages_s for r in chosen], ("endpoint", "stt_done", "first_token", "first_audio")
        )
        theirs = _stage_medians(
            [_cumulative(r.sequential_stages_s) for r in chosen], ("endpoint", "stt", "llm", "tts")
        )
        rows.append((f"edgeai\n{label}", ours, _p95([r.latency_s for r in chosen])))
        rows.append(
            (f"sequential\n{label}", theirs, _p95([r.sequential_latency_s for r in chosen]))
        )
    figure, (axis,) = _figure(height=1.5 + 0.75 * len(rows))
    names = (
        "end-of-speech wait (VAD)",
        "speech-to-text",
        "reply text (intent; LLM first token)",
        "speech out (edgeai: first sentence)",
    )
    for y, (_, bounds, p95) in enumerate(rows):
        start = 0.0
        for stage, (end, colour) in enumerate(zip(bounds, STAGE_COLOURS, strict=True)):
            axis.barh(y, max(0.0, end - start), left=start, color=colour,
                      label=names[stage] if y == 0 else None)  # fmt: skip
            start = max(start, end)
        whisker = np.array([[0.0], [max(0.0, p95 - start)]])
        axis.errorbar(start, y, xerr=whisker, color="black", capsize=4)
        axis.text(start + 0.03, y + 0.25, f"{start * 1000:.0f} ms", fontsize=8)
    axis.set_yticks(range(len(rows)), [name for name, _, _ in rows])
    axis.invert_yaxis()
    axis.set_xlabel("seconds from the end of speech to the first reply audio (p50; whisker p95)")
    axis.set_title("Voice turn: where the time goes")
    axis.legend(loc="upper right", fontsize=8)
    return _save(figure, path)


def wake_summary(results: list[WakeBench], path: Path) -> Path:
    """False rejects per family and listening condition, false accepts per family, CPU."""
    from edgeai.bench.wake import FAMILIES
    from edgeai.synthetic.held_out_voices import CONDITIONS

    figure, (rejects, accepts, cpu) = _figure(width=13.0, columns=3, height=4.0)
    words = [r.word for r in results]
    groups = ["dev set", "after speech", *(c.name for c in CONDITIONS)]
    bars = [(r, family) for r in results for family in FAMILIES]
    width = 0.8 / len(bars)
    at = np.arange(len(groups))
    for k, (result, family) in enumerate(bars):
        metrics = result.metrics if family == "in-family" else result.held_out
        found = {c.condition: c for c in result.conditions if c.family == family}
        rates = [
            metrics.false_reject_rate,
            metrics.after_speech_false_reject_rate,
            *(found[c.name].false_reject_rate for c in CONDITIONS),
        ]
        rejects.bar(at + (k - (len(bars) - 1) / 2) * width, [100 * r for r in rates],
                    width=width, label=f"{result.word}, {family}")  # fmt: skip
    rejects.set_xticks(at, groups, rotation=30, ha="right", fontsize=8)
    rejects.margins(y=0.4)  # room for the legend above the bars
    rejects.axhline(5, color="red", linestyle="--", label="target 5%")
    rejects.set_title("false rejects (%)")
    labels = [f"{r.word}\n{family}" for r, family in bars]
    per_hour = [
        (r.metrics if family == "in-family" else r.held_out).false_accepts_per_hour
        for r, family in bars
    ]
    accepts.bar(labels, per_hour, color="#dd8452")
    accepts.axhline(0.5, color="red", linestyle="--", label="target 0.5/h")
    accepts.set_title("false accepts per hour")
    cpu.bar(words, [r.total_cpu_percent for r in results], color="#55a868")
    cpu.axhline(3, color="red", linestyle="--", label="target 3%")
    cpu.set_title("CPU, wake + VAD (% of one core)")
    for axis in (rejects, accepts, cpu):
        axis.legend(fontsize=7)
    return _save(figure, path)


def vision_costs(result: VisionBench, held_out: HeldOutBench, path: Path) -> Path:
    figure, (axis,) = _figure(width=9, height=3.8)
    names = list(result.phases) + [f"held out:\n{n}" for n in held_out.phases]
    costs = list(result.phases.values()) + list(held_out.phases.values())
    colours = ["#4c72b0"] * len(result.phases) + ["#dd8452"] * len(held_out.phases)
    bars = axis.bar(names, [c.cpu_percent_of_one_core for c in costs], color=colours)
    for bar, cost in zip(bars, costs, strict=True):
        axis.text(bar.get_x() + bar.get_width() / 2, bar.get_height(),
                  f"{cost.detector_runs} runs", ha="center", va="bottom", fontsize=8)  # fmt: skip
    axis.axhline(5, color="red", linestyle="--", label="target while still: 5%")
    axis.axhline(25, color="purple", linestyle=":", label="target while people move: 25%")
    axis.tick_params(axis="x", labelsize=7)
    axis.set_ylabel("CPU, % of one core")
    axis.set_title(
        f"Camera loop at {result.width}x{result.height}, {result.fps} fps, by what is in view "
        "(blue: demo scene, orange: held out)"
    )
    axis.legend(fontsize=8)
    return _save(figure, path)


def service_behaviour(result: ServiceBench, path: Path) -> Path:
    from edgeai.bench.service import WARM_UP_SHARE

    figure, (memory, latency) = _figure(width=11, columns=2)
    minutes = [t / 60 for t, _ in result.soak.rss_mb]
    memory.plot(minutes, [mb for _, mb in result.soak.rss_mb], color="#4c72b0")
    warm_up_min = WARM_UP_SHARE * result.soak.wall_s / 60
    memory.axvspan(0, warm_up_min, color="#dddddd", label="warm-up")
    memory.legend(fontsize=8, loc="lower right")
    memory.set_xlabel("soak minutes (sources as fast as they go)")
    memory.set_ylabel("resident memory (MB)")
    memory.set_ylim(bottom=0)
    memory.set_title(f"Memory: {100 * result.soak.growth_after_warm_up:+.1f}% after warm-up")
    api = result.api
    names = ["p50", "p95", "p99", "max"]
    values = [api.p50_ms, api.p95_ms, api.p99_ms, api.max_ms]
    latency.bar(names, values, color="#55a868")
    latency.axhline(50, color="red", linestyle="--", label="target p99: 50 ms")
    latency.set_ylabel("ms")
    latency.set_title(f"API at 100 requests/s, {api.requests} requests")
    latency.legend(fontsize=8)
    return _save(figure, path)


def _stage_medians(stages: list[dict[str, float | None]], keys: tuple[str, ...]) -> list[float]:
    """Median of each stage's time from the end of speech; a stage a turn skipped (no LLM token
    for an intent) takes the previous stage's time."""
    columns = []
    for turn in stages:
        previous, row = 0.0, []
        for key in keys:
            previous = value if (value := turn.get(key)) is not None else previous
            row.append(previous)
        columns.append(row)
    return [float(m) for m in np.median(columns, axis=0)] if columns else [0.0] * len(keys)


def _cumulative(durations: dict[str, float]) -> dict[str, float | None]:
    total, out = 0.0, {}
    for key, value in durations.items():
        total += value
        out[key] = total
    return dict(out)


def _p95(values: list[float | None] | list[float]) -> float:
    present = [v for v in values if v is not None]
    return float(np.percentile(present, 95)) if present else 0.0


def export_tradeoffs(result: ExportBench, path: Path) -> Path:
    """Speed-up of each artifact, and its gate's figure beside its source's."""
    from edgeai.bench.export import speedup

    figure, (speed, accuracy) = _figure(width=11.0, height=4.2, columns=2)
    manifests = result.manifests
    names = [f"{m.format} {m.precision}" for m in manifests]
    colours = ["#55a868" if m.usable else "#c44e52" for m in manifests]
    speed.barh(names, [speedup(m) or 0.0 for m in manifests], color=colours)
    speed.axvline(1.0, color="grey", linestyle=":", label="the source")
    if result.speed_target is not None:
        target = result.speed_target
        speed.axvline(target, color="red", linestyle="--", label=f"int8 target: {target}x")
    speed.set_xlabel("speed-up over the source (taking turns, same run)")
    speed.legend(fontsize=8)
    positions = np.arange(len(manifests))
    exported = [m.gate.value if m.gate else 0.0 for m in manifests]
    source = [m.gate.reference if m.gate else 0.0 for m in manifests]
    accuracy.barh(positions + 0.2, exported, 0.4, label="artifact")
    accuracy.barh(positions - 0.2, source, 0.4, label="source", color="#9e9e9e")
    accuracy.set_yticks(positions, names)
    accuracy.set_xlabel(result.evaluation)
    accuracy.set_xlim(0, max([*exported, *source, 1e-9]) * 1.6)
    accuracy.legend(fontsize=8, loc="lower right")
    figure.suptitle(f"{result.recipe}: artifacts against their source (red: failed its gate)")
    return _save(figure, path)


def wyoming_overhead(result: WyomingBench, path: Path) -> Path:
    """Per stage: median latency natively and through the Wyoming server, overhead labelled."""
    figure, (axis,) = _figure(height=4.0)
    names = [t.stage for t in result.timings]
    positions = np.arange(len(names))
    native = [float(np.median(t.native_ms)) for t in result.timings]
    wyoming = [float(np.median(t.wyoming_ms)) for t in result.timings]
    axis.barh(positions + 0.2, native, 0.4, label="native call", color="#9e9e9e")
    bars = axis.barh(positions - 0.2, wyoming, 0.4, label="through Wyoming", color="#4c72b0")
    for bar, timing in zip(bars, result.timings, strict=True):
        axis.text(bar.get_width(), bar.get_y() + bar.get_height() / 2,
                  f" {timing.overhead_ms:+.0f} ms", va="center", fontsize=8)  # fmt: skip
    axis.set_yticks(positions, names)
    axis.set_xlabel("median ms to the stage's answer (same requests, taking turns)")
    axis.set_title("Wyoming server overhead per stage (target: at most +50 ms)")
    axis.set_xlim(0, max([*native, *wyoming, 1.0]) * 1.2)  # room for the labels
    axis.legend(fontsize=8, loc="upper right")
    return _save(figure, path)


def intent_routing(results: list[RoutingResult], path: Path) -> Path:
    """Share of requests that reached the right route, per route, one bar per phrase set."""
    figure, (axis,) = _figure(width=11.0)
    routes = sorted({route for r in results for route in r.by_route()})
    at = np.arange(len(routes))
    width = 0.8 / max(1, len(results))
    for i, result in enumerate(results):
        counts = result.by_route()
        shares = [100 * counts[r][0] / counts[r][1] if r in counts else 0 for r in routes]
        label = f"{result.name} ({result.accuracy:.0%} of {len(result.routed)})"
        axis.bar(at + i * width - 0.4 + width / 2, shares, width=width, label=label)
    axis.axhline(90, color="red", linestyle="--", label="target 90%")
    axis.set_xticks(at, routes, rotation=40, ha="right", fontsize=8)
    axis.set_ylabel("routed right (%)")
    axis.set_title("Intent routing on requests written apart from the templates")
    axis.legend(fontsize=8, loc="lower left")
    return _save(figure, path)


def stt_errors(totals: dict[str, dict[str, dict[str, float]]], path: Path) -> Path:
    """Word error rate of each speech-to-text variant, in-family beside held-out voices."""
    figure, (errors, timing) = _figure(columns=2, height=4.0)
    variants = list(totals)
    at = np.arange(len(variants))
    for i, family in enumerate(("in-family", "held-out")):
        rates = [100 * totals[v][family]["word_error_rate"] for v in variants]
        errors.bar(at + (i - 0.5) * 0.4, rates, width=0.4, label=family)
        seconds = [1000 * totals[v][family]["stt_p50_s"] for v in variants]
        timing.bar(at + (i - 0.5) * 0.4, seconds, width=0.4, label=family)
    errors.set_title("word error rate (%)")
    timing.set_title("transcription time p50 (ms)")
    for axis in (errors, timing):
        axis.set_xticks(at, [textwrap.fill(v, 14) for v in variants], fontsize=7)
        axis.legend(fontsize=8)
    return _save(figure, path)


def probe_behaviour(result: ProbeBench, path: Path) -> Path:
    """/health latency and the service's memory while the crowd is held open."""
    figure, (latency, memory) = _figure(width=11, columns=2)
    seconds = [t for t, _, _ in result.timeline]
    latency.scatter(seconds, [ms for _, ms, _ in result.timeline], s=6, color="#4c72b0")
    latency.axhline(100, color="red", linestyle="--", label="target p99: 100 ms")
    latency.set_xlabel("seconds since the crowd arrived")
    latency.set_ylabel("/health ms")
    latency.set_title(
        f"/health p99 {result.held.p99_ms:.1f} ms (alone {result.baseline.p99_ms:.1f})"
    )
    latency.legend(fontsize=8)
    memory.plot(seconds, [mb for _, _, mb in result.timeline], color="#55a868")
    memory.axhline(result.rss_before_mb, color="#9e9e9e", linestyle=":", label="before")
    memory.axhline(result.rss_before_mb + 50, color="red", linestyle="--", label="target +50 MB")
    memory.set_xlabel("seconds since the crowd arrived")
    memory.set_ylabel("service resident memory (MB)")
    memory.set_title(f"Memory {result.rss_growth_mb:+.1f} MB with the crowd")
    memory.legend(fontsize=8)
    return _save(figure, path)


def echo_results(result: EchoBenchResult, path: Path) -> Path:
    """ERLE per echo path against the target, and detection during playback with and without
    the canceller."""
    figure, (erle, heard) = _figure(11.0, 4.5, columns=2)
    delays = [actual for actual, _ in result.delays_ms]
    erle.scatter(delays, result.erle_db, color=STAGE_COLOURS[1])
    erle.axhline(25, color="#c44e52", linestyle="--", label="target 25 dB")
    erle.set_xlabel("device delay + sound travel (ms)")
    erle.set_ylabel("ERLE after 2 s (dB)")
    erle.legend()
    words = list(result.detected)
    x = np.arange(len(words))
    for offset, (label, hits) in enumerate(
        (("with canceller", result.detected), ("without", result.detected_raw))
    ):
        rates = [100 * sum(hits[w]) / max(len(hits[w]), 1) for w in words]
        heard.bar(x + 0.4 * offset, rates, 0.4, label=label, color=STAGE_COLOURS[1 + 2 * offset])
    heard.axhline(90, color="#c44e52", linestyle="--", label="target 90%")
    heard.set_xticks(x + 0.2, words)
    heard.set_ylabel("heard during playback, echo +6 dB (%)")
    heard.set_ylim(0, 105)
    heard.legend()
    return _save(figure, path)


def home_arbitration(result: HomeBench, path: Path) -> Path:
    figure, (counts, waits) = _figure(width=11, columns=2)
    names = ["exactly one\nanswered", "the loudest\nanswered"]
    counts.bar(names, [result.exactly_one, result.loudest_won], color=["#4c72b0", "#55a868"])
    counts.axhline(result.events, color="grey", linestyle=":", label="all events")
    counts.axhline(0.95 * result.events, color="red", linestyle="--", label="target: loudest 95%")
    counts.set_ylabel("events")
    counts.set_title(f"{result.devices} devices, {result.events} wake events")
    counts.legend(fontsize=8, loc="lower right")
    slack_ms = sorted(s * 1000 for s in result.slack_s)
    waits.plot(slack_ms, range(1, len(slack_ms) + 1), color="#dd8452", label="verdict due before")
    waits.plot(sorted(w * 1000 for w in result.waits_s), range(1, len(result.waits_s) + 1),
               color="#4c72b0", label="turn waited")  # fmt: skip
    waits.axvline(150, color="red", linestyle="--", label="target wait: 150 ms")
    waits.set_xlabel("ms, per answered turn (sorted)")
    waits.set_ylabel("turns")
    waits.set_title("The verdict against the turn's start (the endpoint)")
    waits.legend(fontsize=8)
    return _save(figure, path)
