"""Assemble the camera loop (and any detector) from the config, the profile and the model store."""

from __future__ import annotations

import tempfile
from pathlib import Path

from edgeai.config import CameraSettings
from edgeai.device.artifacts import ArtifactIndex, role_model
from edgeai.device.profiles import Profile, RoleAssignment
from edgeai.engines.tensor import Engine as TensorEngine
from edgeai.engines.tensor import check_model_file, open_tensor_model
from edgeai.errors import ModelLoadError
from edgeai.models.catalog import Catalog
from edgeai.store import ModelStore
from edgeai.vision.blazeface import BlazeFaceDetector
from edgeai.vision.camera import Camera, CameraTiming
from edgeai.vision.detection import Detector
from edgeai.vision.events import EventBus, EventStore
from edgeai.vision.loop import CameraLoop, DetectPacing
from edgeai.vision.motion import MotionGate, MotionSettings
from edgeai.vision.people import PeopleSettings, PeopleWatcher
from edgeai.vision.regions import RegionSettings
from edgeai.vision.sources import FrameSource, is_live, open_source
from edgeai.vision.tracker import Tracker, TrackerSettings
from edgeai.vision.yolo import YoloDetector
from edgeai.vision.yolo_graph import any_size_graph
from edgeai.vision.zones import Zone

CUT_GRAPHS = ".any-size"
"""The model store's folder of YOLO graphs cut before their head, named by their source's
sha256 (yolo_graph.py)."""


def load_detector(
    path: Path,
    role: RoleAssignment,
    profile: Profile,
    min_score: float | None = None,
    cut_cache: Path | None = None,
) -> Detector:
    """A YOLO or BlazeFace detector, told apart by the model's input layout (NCHW or NHWC).
    A YOLOv8 ONNX file on onnxruntime runs without its fixed-size head, so that it also takes
    crops of the frame (yolo_graph.py); the cut graph is kept in `cut_cache` when given."""
    device = "CPU" if role.device == "cpu" else role.device.upper()
    engine: TensorEngine = "openvino" if role.engine == "openvino" else "onnxruntime"
    providers = profile.engines.onnxruntime.providers
    model = None
    if engine == "onnxruntime" and path.suffix == ".onnx":
        check_model_file(path)
        with tempfile.TemporaryDirectory(prefix="edgeai-detector-") as folder:
            cut = any_size_graph(path, Path(folder), cut_cache)
            if cut is not None:
                model = open_tensor_model(cut, engine, role.threads, providers)
    if model is None:
        model = open_tensor_model(path, engine, role.threads, providers, device)
    shape = model.input_shape
    if len(shape) == 4 and shape[-1] == 3:
        face = BlazeFaceDetector(model, path)
        face.score_threshold = min_score or face.score_threshold
        return face
    if len(shape) == 4 and shape[1] == 3:
        yolo = YoloDetector(model, path)
        yolo.score_threshold = min_score or yolo.score_threshold
        return yolo
    raise ModelLoadError(
        f"{path}: not a detector: input shape {list(shape)}; expected [1, 3, S, S] (YOLO) "
        "or [1, S, S, 3] (BlazeFace)"
    )


def default_detector(
    min_score: float | None,
    profile: Profile,
    store: ModelStore,
    catalog: Catalog,
    artifacts: ArtifactIndex | None = None,
) -> Detector:
    """The profile's detector: an exported artifact meant for this profile that passed its
    gate (`edgeai export`), else the catalog model the profile names. `min_score` (for a
    camera loop, the config's camera.detector_min_score) is all it reads of the config."""
    path, role = role_model(profile, "detector", store, catalog, artifacts)
    return load_detector(path, role, profile, min_score, store.root / CUT_GRAPHS)


def build_camera_loop(
    settings: CameraSettings, detector: Detector, name: str, events_folder: Path | None
) -> CameraLoop:
    """The loop for one camera; events are stored in `events_folder` unless it is None."""
    motion = MotionSettings(settings.motion.pixel_threshold, settings.motion.min_area)
    zones = [Zone(zone, tuple(corners)) for zone, corners in settings.zones.items()]
    return CameraLoop(
        name=name,
        gate=MotionGate(motion, settings.motion.masks),
        detector=detector,
        tracker=Tracker(TrackerSettings()),
        people=PeopleWatcher(PeopleSettings.of(settings), zones),
        bus=EventBus(),
        store=EventStore(events_folder, settings.events.keep, settings.events.keep_days)
        if events_folder is not None
        else None,
        pacing=DetectPacing(
            1.0 / settings.detect_fps,
            1.0 / settings.tracked_detect_fps,
            settings.recheck_s,
            still_interval_s=1.0 / settings.still_detect_fps,
        ),
        regions=RegionSettings() if settings.detect_regions else None,
    )


def build_camera(
    target: str, settings: CameraSettings, profile: Profile, realtime: bool = True
) -> Camera:
    """The capture side for `target` (device, URL, file or folder), sized by config or profile."""
    width = settings.width or profile.camera.width
    height = settings.height or profile.camera.height
    fps = settings.fps or profile.camera.fps

    def opener() -> FrameSource:
        return open_source(target, width, height, fps, realtime=realtime)

    live = is_live(target)
    timing = CameraTiming(stall_s=settings.stall_s)
    return Camera(opener, timing, live=live, lossless=not live and not realtime)
