"""A Piper voice's graph cut in two, so that a sentence's audio can be made a piece at a time.

A Piper voice is one VITS graph from a sentence's phoneme ids to its whole audio: the first
sound exists only once the last one is made. Its text encoder and duration predictor need the
whole sentence, but what follows, the flow and the HiFi-GAN decoder, is convolutions along the
latent frames, where each frame of audio depends only on the frames near it. So the graph is cut
where the latent frames and their mask enter the flow: the head runs once per sentence, the tail
on windows of frames with some context on each side (tts.py), and the first window's audio plays
while the rest is made. A Piper export names the flow's nodes `/flow/...` and the decoder's
`/dec/...`; a graph without them is not cut (the voice then speaks whole sentences).

Runs as a script in a child process, with the stdlib and onnx only (engines/graph_cuts.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

NOT_VITS = 3
"""The exit status for a graph that is not a Piper VITS export."""
HEAD, TAIL = ".head.onnx", ".tail.onnx"


def split_graph(path: Path, scratch: Path, cache: Path | None) -> tuple[Path, Path] | None:
    """The head and tail of the voice at `path` (made in the folder `scratch`, kept in `cache` by
    the source's sha256); None when it is no Piper VITS export or the cut failed (logged)."""
    from edgeai.engines.graph_cuts import cached_cut  # here: this file also runs as a script

    cut = cached_cut(Path(__file__), path, [HEAD, TAIL], scratch, cache, "the voice", NOT_VITS)
    return (cut[0], cut[1]) if cut else None


def write_split(path: Path, head_out: Path, tail_out: Path) -> bool:
    """The cut, in the child: True when both parts were written. The head's outputs and the
    tail's inputs are the latent frames and their mask, in that order."""
    import onnx
    from onnx.utils import Extractor

    model = onnx.load(str(path))
    graph = model.graph
    cut = _flow_inputs(graph)
    if cut is None or not any(node.name.startswith("/dec/") for node in graph.node):
        return False
    extractor = Extractor(model)
    head = extractor.extract_model([i.name for i in graph.input], cut)
    tail = extractor.extract_model(cut, [graph.output[0].name])
    if [i.name for i in tail.graph.input] != cut:
        return False  # the flow needs more than the frames and their mask
    onnx.save(head, str(head_out))
    onnx.save(tail, str(tail_out))
    return True


def _flow_inputs(graph: onnx.GraphProto) -> list[str] | None:
    """[latent frames, mask]: what the flow's nodes take from the named nodes before it (its
    own unnamed helpers and constants aside); the mask is a Cast of the frame lengths."""
    producer = {out: node for node in graph.node for out in node.output}
    latent: list[str] = []
    mask: list[str] = []
    for node in graph.node:
        if not node.name.startswith("/flow/"):
            continue
        for name in node.input:
            source = producer.get(name)
            if (
                source is None
                or source.op_type == "Constant"
                or not source.name.startswith("/")
                or source.name.startswith("/flow/")
            ):
                continue
            found = mask if source.op_type == "Cast" else latent
            if name not in found:
                found.append(name)
    if len(latent) != 1 or len(mask) != 1:
        return None
    return [latent[0], mask[0]]


if __name__ == "__main__":
    sys.path.pop(0)  # this file's folder: its modules must not stand in for onnx's imports
    source, head_out, tail_out = map(Path, sys.argv[1:4])
    sys.exit(0 if write_split(source, head_out, tail_out) else NOT_VITS)
