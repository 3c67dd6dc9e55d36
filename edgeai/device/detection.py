"""Pick the device profile that fits a machine, and say why."""

from __future__ import annotations

from dataclasses import dataclass

from edgeai.device.host import HostFacts
from edgeai.device.profiles import DetectRules, Profile, Profiles
from edgeai.errors import ProfileError


@dataclass(frozen=True)
class Detection:
    profile: Profile
    reasons: list[str]
    """Each rule of the profile that held, in words."""


def detect_profile(facts: HostFacts, profiles: Profiles) -> Detection:
    """The fitting profile with the highest priority; ProfileError when none fits."""
    fitting = []
    for profile in profiles:
        reasons = matching_reasons(profile.detect, facts)
        if reasons is not None:
            fitting.append(Detection(profile, reasons))
    if not fitting:
        raise ProfileError(
            f"no device profile fits this machine (arch {facts.arch or 'unknown'}, "
            f"model {facts.device_tree_model or facts.cpu_model or 'unknown'}); "
            "name one with `profile:` in the config (see `edgeai profile list`)"
        )
    return max(fitting, key=lambda d: d.profile.detect.priority)


def matching_reasons(rules: DetectRules, facts: HostFacts) -> list[str] | None:
    """Why the rules hold for these facts, or None as soon as one does not."""
    reasons = []
    if rules.arch is not None:
        if facts.arch != rules.arch:
            return None
        reasons.append(f"CPU architecture is {rules.arch}")
    if rules.device_tree_model is not None:
        model = facts.device_tree_model or ""
        if rules.device_tree_model.lower() not in model.lower():
            return None
        reasons.append(f"device-tree model {model!r} contains {rules.device_tree_model!r}")
    if rules.tegra is not None:
        if (facts.tegra_release is not None) != rules.tegra:
            return None
        reasons.append(f"NVIDIA L4T release: {facts.tegra_release}" if rules.tegra else "no L4T")
    if rules.intel_npu is not None:
        has_npu = facts.intel_npu or "NPU" in facts.openvino_devices
        if has_npu != rules.intel_npu:
            return None
        reasons.append("Intel NPU present" if rules.intel_npu else "no Intel NPU")
    missing_flags = [flag for flag in rules.cpu_flags if flag not in facts.cpu_flags]
    if missing_flags:
        return None
    if rules.cpu_flags:
        reasons.append(f"CPU flags {', '.join(rules.cpu_flags)}")
    return reasons
