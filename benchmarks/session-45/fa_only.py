"""False accepts of heads on more held-out speech (mbneg.py's embeddings).
usage: fa_only.py MBNEG.pkl HEAD.onnx@THR ..."""
import pickle
import sys

from edgeai.export.wakeword.trainer import count_firings
from head_scores import BLOCK_S, frontend, session, trace

features = pickle.load(open(sys.argv[1], "rb"))["mbrola2/negatives"]
silence = frontend().silence_embedding
for arg in sys.argv[2:]:
    path, thr = arg.split("@")
    tr = trace(session(path), features, silence)
    print(path.split("/")[-1], thr, "hours %.2f" % (len(features) * BLOCK_S / 3600),
          "false accepts", count_firings(tr, float(thr)),
          "| at 0.385/0.6/0.7:", [count_firings(tr, t) for t in (0.385, 0.6, 0.7)])
