"""ONNX export (fp32, dynamic height and width). Every exported file computes what TorchBackend
computes: (1, 3, H, W) float32 normalised RGB in, (1, 1, H/4, W/4) person probability out."""
from __future__ import annotations

from pathlib import Path

from ..backends.base import BackendError
from .metadata import INPUT_NAME, OUTPUT_NAME, export_metadata, set_onnx_metadata
from .network import load_for_export
from .shapes import fixed_input_hw
from .writing import atomic_target, library_messages_to_debug

ONNX_OPSET = 20  # the first with a Gelu op: one fused node, also after int8 quantisation (see below)


def export_onnx(weights: str | Path, out: str | Path, size: int | None = None, opset: int = ONNX_OPSET,
                loaded=None) -> Path:
    """Write an fp32 ONNX model with dynamic height and width (any multiples of 32).

    Opset 20 exports GELU as one Gelu node. At opset 17 it is spelled out (Div, Erf, Add, Mul, Mul);
    ONNX Runtime fuses that back in an fp32 graph but not in the quantised one, where the unfused
    GELUs cost about 15% of the int8 run time.
    loaded: load_for_export(weights) already done by the caller (build.py validates first).
    """
    import torch

    try:
        import onnx
    except ImportError:
        raise BackendError("onnx export needs the 'onnx' package: pip install 'fastvit-fx[onnx]'") from None
    model, config, digest = loaded or load_for_export(weights)
    size = int(size or config.input_size)
    h, w = fixed_input_hw(size)
    x = torch.zeros(1, 3, h, w)
    out = Path(out)
    with atomic_target(out) as tmp, library_messages_to_debug(), torch.no_grad():
        # The TorchScript-based exporter: the dynamo one needs onnxscript, which we do not depend on.
        torch.onnx.export(
            model, (x,), str(tmp), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {2: "height", 3: "width"}, OUTPUT_NAME: {2: "height_4", 3: "width_4"}},
            opset_version=opset, do_constant_folding=True, dynamo=False,
        )
        proto = onnx.load(str(tmp))
        inline_shared_initializers(proto)
        set_onnx_metadata(proto, export_metadata(config, digest, None, size, "fp32"))
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
    return out


def inline_shared_initializers(proto) -> None:
    """The exporter stores identical tensors once and feeds the copies through Identity nodes (this
    happens with freshly initialised biases); the int8 quantiser needs each conv's weight and bias
    to be initializers, so give every such Identity output its own copy of the tensor."""
    inits = {t.name: t for t in proto.graph.initializer}
    keep = []
    for node in proto.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            copy = type(inits[node.input[0]])()
            copy.CopyFrom(inits[node.input[0]])
            copy.name = node.output[0]
            proto.graph.initializer.append(copy)
        else:
            keep.append(node)
    if len(keep) != len(proto.graph.node):
        del proto.graph.node[:]
        proto.graph.node.extend(keep)
