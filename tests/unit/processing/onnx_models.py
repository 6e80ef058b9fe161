"""Small ONNX graphs whose outputs are known exactly, built with the `onnx` package."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def _save(graph: onnx.GraphProto, path: Path) -> str:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def constant_output_model(
    path: Path,
    output: NDArray[np.float32],
    *,
    input_shape: tuple[int, ...] = (1, 3, 640, 640),
    input_type: int = TensorProto.FLOAT,
) -> str:
    """A model that returns `output` whatever its input (input * 0 is added so it stays used).

    Returns:
        The file's SHA-256.
    """
    nodes = []
    source = "images"
    if input_type != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", ["images"], ["as_float"], to=TensorProto.FLOAT))
        source = "as_float"
    nodes += [
        helper.make_node("ReduceMean", [source], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["fixed", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed_candidates",
        [helper.make_tensor_value_info("images", input_type, list(input_shape))],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))],
        initializer=[
            numpy_helper.from_array(output.astype(np.float32), "fixed"),
            numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        ],
    )
    return _save(graph, path)


def identity_model(path: Path, input_shape: tuple[int, ...] = (1, 3, 640, 640)) -> str:
    """A model whose output is its input tensor (to see the pre-processing exactly)."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["output0"])],
        "identity",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(input_shape))],
    )
    return _save(graph, path)


def yolo_candidates(
    rows: list[tuple[float, float, float, float, int, float]],
) -> NDArray[np.float32]:
    """A YOLOv8-style output [1, 84, N] from (cx, cy, w, h, class index, score) rows."""
    out = np.zeros((1, 84, len(rows)), dtype=np.float32)
    for n, (cx, cy, w, h, cls, score) in enumerate(rows):
        out[0, :4, n] = (cx, cy, w, h)
        out[0, 4 + cls, n] = score
    return out
