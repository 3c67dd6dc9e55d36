"""One ONNX head that outputs the mean of several heads' scores (same input, same window).
usage: mean_heads.py OUT.onnx A.onnx B.onnx ..."""
import sys
import onnx
from onnx import helper, compose

out, paths = sys.argv[1], sys.argv[2:]
models = [onnx.load(p) for p in paths]
inp = models[0].graph.input[0]
nodes, inits, outs = [], [], []
for i, m in enumerate(models):
    m = compose.add_prefix(m, f"h{i}_")
    g = m.graph
    # the prefixed input is fed from the shared input
    nodes.append(helper.make_node("Identity", [inp.name], [g.input[0].name]))
    nodes.extend(g.node)
    inits.extend(g.initializer)
    outs.append(g.output[0].name)
out_info = models[0].graph.output[0]
nodes.append(helper.make_node("Mean", outs, [out_info.name]))
graph = helper.make_graph(nodes, "mean_of_heads", [inp], [out_info], inits)
model = helper.make_model(graph, opset_imports=models[0].opset_import)
model.ir_version = models[0].ir_version
onnx.checker.check_model(model)
onnx.save(model, out)
print("wrote", out)
