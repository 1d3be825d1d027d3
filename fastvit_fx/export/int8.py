"""Static int8 quantisation of an fp32 ONNX export (ONNX Runtime's quantiser)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..backends.base import BackendError
from .cpu import cpu_has_vnni
from .metadata import INPUT_NAME, onnx_metadata, set_onnx_metadata
from .writing import atomic_target, library_messages_to_debug


def quantize_onnx_int8(fp32_path: str | Path, out: str | Path, inputs: list[np.ndarray],
                       reduce_range: bool | None = None) -> Path:
    """Static int8 quantisation (QOperator, per-channel weights) of the dense convolutions.

    Depthwise convolutions, GELU, resizes and adds stay fp32: ONNX Runtime's int8 depthwise
    kernels and the extra quantise/dequantise pairs around them cost more than they save (a fully
    quantised graph was slower than fp32 here), while the dense 1x1/3x3 convolutions, most of the
    compute, get faster: the whole network takes about 0.65x the fp32 time on a 2-core x86 CPU.
    The stem (the first three convolutions, on the image) and the last (the classifier) also stay
    fp32: they cost little and are where quantisation error hurts most. Activation ranges come from `inputs` (see
    calibration_inputs).

    reduce_range: 7-bit weights, which keep u8 x s8 products from saturating on x86 CPUs without
    VNNI (ONNX Runtime's advice for per-channel models). None (default): only where this machine's
    CPU lacks VNNI, since the int8 model is made on the machine that runs it.
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, \
        quantize_static

    if not inputs:
        raise BackendError("int8 quantisation needs at least one calibration frame")
    if reduce_range is None:
        reduce_range = not cpu_has_vnni()
    fp32_path, out = Path(fp32_path), Path(out)
    proto = onnx.load(str(fp32_path))
    meta = onnx_metadata(proto)
    convs = [n for n in proto.graph.node if n.op_type == "Conv"]  # ONNX nodes are in topological order
    keep_fp32 = {n.name for n in convs if any(a.name == "group" and a.i > 1 for a in n.attribute)}
    if convs:
        # the classifier, and FastViT's stem (3 convs on the image, down to stride 4): cheap, and the stem
        # is where rounding moved wide-frame val mIoU most (-0.006 quantised, +0.003 kept fp32, with an earlier set of shipped weights)
        stem = [n for n in convs if "stem" in n.name] or convs[:3]
        keep_fp32 |= {convs[-1].name} | {n.name for n in stem}
        # with an EdgeRefiner the last conv is its residual, not the classifier: keep both, and the
        # refiner's other two small convs (it exists to place edges finely), exact too
        keep_fp32 |= {n.name for n in convs if "refiner" in n.name or "classifier" in n.name}

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(inputs)

        def get_next(self):
            x = next(self._it, None)
            return None if x is None else {INPUT_NAME: x}

    with atomic_target(out) as tmp, library_messages_to_debug():
        # ONNX Runtime writes "<model>-inferred.onnx" beside the model it quantises and deletes it after:
        # two processes quantising one export at once (two app windows, parallel evals) removed each
        # other's file. A private copy keeps that file in this call's own temporary folder.
        source = tmp.parent / ("source-" + fp32_path.name)
        shutil.copyfile(fp32_path, source)
        quantize_static(
            str(source), str(tmp), _Reader(), quant_format=QuantFormat.QOperator, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"],
            nodes_to_exclude=sorted(keep_fp32), calibrate_method=CalibrationMethod.MinMax,
            reduce_range=reduce_range, extra_options={"CalibTensorRangeSymmetric": False},
        )
        qproto = onnx.load(str(tmp))
        meta = {**meta, "precision": "int8 (dense convs, static, per-channel"
                + (", 7-bit weights)" if reduce_range else ")"),
                "calibration_frames": str(len(inputs))}
        set_onnx_metadata(qproto, meta)
        onnx.save(qproto, str(tmp))
    return out
