"""A YOLOv8 export that takes pictures of any size: the same graph without its decoding head.

An Ultralytics export bakes its input size into the head (8400 anchor points for 640x640, and
reshapes sized to match), so a crop of the moving region would have to be scaled up to the full
square and cost as much as the whole frame. Everything before the head is convolutions, which
take any height and width that are multiples of the largest stride; so the graph is cut where
the three per-scale maps (box distributions and class logits, before their concat) come out,
its input height and width are left free, and `yolo.decode_maps` does the rest in numpy. The
decoded boxes equal the shipped graph's at its own size (a test checks it).

The cut is made in a child process and kept in the model store (engines/graph_cuts.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

SIZE_KEY = "imgsz"
"""Metadata key of the size the model was exported for (Ultralytics writes it as [h, w])."""
NOT_YOLO = 3
"""The exit status for a graph without a YOLOv8 detect head."""


def any_size_graph(path: Path, scratch: Path, cache: Path | None) -> Path | None:
    """The graph of `path` cut before its head (made in the folder `scratch`, kept in `cache`
    by the source's sha256); None when it is not shaped like a YOLOv8 detect head or the cut
    failed (logged): the model is then used as it is, on whole frames."""
    from edgeai.engines.graph_cuts import cached_cut  # here: this file also runs as a script

    cut = cached_cut(Path(__file__), path, [".onnx"], scratch, cache, "the detect head", NOT_YOLO)
    return cut[0] if cut else None


def write_any_size(path: Path, out: Path) -> bool:
    """The cut, in the child: True when `out` was written."""
    import onnx
    from onnx import helper

    model = onnx.load(str(path))
    graph = model.graph
    maps = _head_maps(graph)
    if maps is None or len(graph.input) != 1:
        return False
    dims = graph.input[0].type.tensor_type.shape.dim
    if len(dims) != 4 or not dims[2].dim_value or dims[2].dim_value != dims[3].dim_value:
        return False
    size = dims[2].dim_value
    for dim, name in ((dims[2], "height"), (dims[3], "width")):
        dim.ClearField("dim_value")
        dim.dim_param = name
    del graph.output[:]
    graph.output.extend(
        helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in maps
    )
    del graph.value_info[:]  # shapes inferred for the fixed size no longer hold
    _prune(graph, set(maps))
    if not any(p.key == SIZE_KEY for p in model.metadata_props):
        model.metadata_props.add(key=SIZE_KEY, value=f"[{size}, {size}]")
    onnx.save(model, str(out))
    return True


def _head_maps(graph: onnx.GraphProto) -> list[str] | None:
    """The three per-scale maps: the inputs of the reshapes that feed the head's concat along
    the anchors (Concat(Reshape(map_8), Reshape(map_16), Reshape(map_32)) -> Split)."""
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    for node in graph.node:
        sources = [producer.get(name) for name in node.input]
        if (
            node.op_type == "Concat"
            and len(sources) == 3
            and all(s is not None and s.op_type == "Reshape" for s in sources)
            and any(c.op_type == "Split" for c in consumers.get(node.output[0], []))
        ):
            return [s.input[0] for s in sources if s is not None]
    return None


def _prune(graph: onnx.GraphProto, wanted: set[str]) -> None:
    """Drop the nodes and weights that no longer lead to an output."""
    needed = set(wanted)
    kept = []
    for node in reversed(list(graph.node)):
        if any(out in needed for out in node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    weights = [w for w in graph.initializer if w.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(weights)


if __name__ == "__main__":
    sys.path.pop(0)  # this file's folder: its modules must not stand in for onnx's imports
    sys.exit(0 if write_any_size(Path(sys.argv[1]), Path(sys.argv[2])) else NOT_YOLO)
