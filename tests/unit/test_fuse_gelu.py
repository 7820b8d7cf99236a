"""The int8 recipe's GELU fusion: a written-out GELU becomes one node computing the same values; the rest of
the graph (unnamed nodes included) is left as it was."""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from models.quantize import fuse_gelu


def _graph_with_gelu(erf_input_is_scaled: bool = True) -> onnx.ModelProto:
    const = [
        helper.make_tensor("sqrt2", TensorProto.FLOAT, [], [math.sqrt(2.0)]),
        helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
        helper.make_tensor("half", TensorProto.FLOAT, [], [0.5]),
    ]
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),  # unnamed, as exporters often leave them
        helper.make_node("Div", ["r", "sqrt2"], ["d"], name="div"),
        helper.make_node("Erf", ["d" if erf_input_is_scaled else "r"], ["e"], name="erf"),
        helper.make_node("Add", ["e", "one"], ["a"], name="add"),
        helper.make_node("Mul", ["r", "a"], ["m"], name="mul"),
        helper.make_node("Mul", ["m", "half"], ["g"], name="half"),
        helper.make_node("Neg", ["g"], ["y"]),  # unnamed, after the chain
    ]
    graph = helper.make_graph(
        nodes,
        "gelu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])],
        initializer=const,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"x": x})[0])


def test_written_out_gelu_becomes_one_node_with_the_same_values() -> None:
    x = np.linspace(-3.0, 3.0, 10, dtype=np.float32).reshape(2, 5)
    model = _graph_with_gelu()
    expected = _run(model, x)
    fused = fuse_gelu(_graph_with_gelu())
    ops = [n.op_type for n in fused.graph.node]
    assert ops == ["Relu", "Gelu", "Neg"]
    assert fused.graph.node[1].domain == "com.microsoft"
    np.testing.assert_allclose(_run(fused, x), expected, atol=1e-6)


def test_a_chain_that_is_not_a_gelu_is_left_alone() -> None:
    model = fuse_gelu(_graph_with_gelu(erf_input_is_scaled=False))
    assert [n.op_type for n in model.graph.node] == ["Relu", "Div", "Erf", "Add", "Mul", "Mul", "Neg"]
