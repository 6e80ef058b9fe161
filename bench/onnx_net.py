"""A YOLO-shaped ONNX network with random weights, for timing the ONNX detector path only.

No detection model ships in any package reachable here, so speed is measured on a stand-in of
similar shape: a 640x640 RGB input, five stride-2 3x3 convolutions (16..128 channels, ReLU), and
a 1x1 head giving 84 channels (4 box + 80 class scores, sigmoid) on the 20x20 grid, laid out as
YOLOv8's [1, 84, 400]. Its boxes mean nothing; its cost is a small real convolutional network.
(Not a `bench_*.py` script: `run_all.py` does not run it.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def build_detector_net(path: Path) -> tuple[Path, str]:
    """Write the network to `path` (once) and return it with its SHA-256."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    if not path.exists():
        rng = np.random.default_rng(0)
        nodes, inits = [], []
        channels, source = 3, "images"
        for i, out in enumerate((16, 32, 64, 128, 128)):
            weight = (
                rng.standard_normal((out, channels, 3, 3)) * (2 / (9 * channels)) ** 0.5
            ).astype(np.float32)
            inits.append(numpy_helper.from_array(weight, f"w{i}"))
            nodes.append(
                helper.make_node(
                    "Conv", [source, f"w{i}"], [f"c{i}"], strides=[2, 2], pads=[1, 1, 1, 1]
                )
            )
            nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
            channels, source = out, f"r{i}"
        head = (rng.standard_normal((84, channels, 1, 1)) * 0.1).astype(np.float32)
        inits.append(numpy_helper.from_array(head, "head"))
        inits.append(numpy_helper.from_array(np.array([1, 84, 400], dtype=np.int64), "shape"))
        inits.append(numpy_helper.from_array(np.float32(640.0), "scale"))
        nodes += [
            helper.make_node("Conv", [source, "head"], ["h"]),
            helper.make_node("Sigmoid", ["h"], ["s"]),
            helper.make_node("Reshape", ["s", "shape"], ["flat"]),
            helper.make_node("Mul", ["flat", "scale"], ["output0"]),
        ]
        graph = helper.make_graph(
            nodes,
            "random_yolo",
            [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])],
            [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 84, 400])],
            initializer=inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(model.SerializeToString())
    return path, hashlib.sha256(path.read_bytes()).hexdigest()
