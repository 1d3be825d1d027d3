"""Core ML export: an fp16 ML Program (.mlpackage) with one fixed input shape (coremltools, torch)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..backends.base import BackendError
from .metadata import INPUT_NAME, META_PREFIX, OUTPUT_NAME, export_metadata
from .network import load_for_export
from .shapes import DEFAULT_ASPECT, STRIDE, fixed_input_hw
from .writing import atomic_target, library_messages_to_debug


def export_coreml(weights: str | Path, out: str | Path, size: int | None = None,
                  aspect: tuple[int, int] = DEFAULT_ASPECT, input_hw: tuple[int, int] | None = None, loaded=None) -> Path:
    """Write an fp16 ML Program (.mlpackage) with one fixed input shape.

    Input: a float32 tensor "input" (1, 3, H, W), normalised RGB, the letterbox the Segmenter makes
    (the Segmenter letterboxes into the fixed shape via the backend's input_hw). A tensor rather than
    an image input: our pre-processing already yields the normalised tensor, and the Python API
    would need a PIL image per frame for an image input. Output: float32 "prob" (1, 1, H/4, W/4).
    """
    import torch

    from ..backends.coreml_backend import _quiet_coremltools, import_coremltools

    ct = import_coremltools()
    model, config, digest = loaded or load_for_export(weights)
    size = int(size or config.input_size)
    h, w = input_hw or fixed_input_hw(size, aspect)
    if h % STRIDE or w % STRIDE:
        raise ValueError(f"Core ML input {w}x{h}: both sides must be multiples of {STRIDE}")
    x = torch.zeros(1, 3, h, w)
    out = Path(out)
    with library_messages_to_debug(), _quiet_coremltools(), torch.no_grad():
        source = torch.jit.trace(model, x)
        try:
            mlmodel = _ct_convert(ct, source, x.shape)
        except Exception as first:  # the traced path breaks on numpy >= 2.4; torch.export does not
            try:
                source = torch.export.export(model, (x,)).run_decompositions({})
                mlmodel = _ct_convert(ct, source, x.shape)
            except Exception:
                raise BackendError(f"coreml export failed: {str(first).splitlines()[0] if str(first) else first!r}") \
                    from first
    meta = export_metadata(config, digest, (h, w), size, "fp16")
    mlmodel.short_description = (f"fastvit-fx person segmenter ({config.arch}, Semantic FPN), "
                                 f"input {w}x{h}, fp16")
    mlmodel.author = "fastvit-fx"
    mlmodel.license = "Apache-2.0"
    mlmodel.version = meta["version"]
    for key, value in meta.items():
        mlmodel.user_defined_metadata[META_PREFIX + key] = value
    mlmodel.input_description[INPUT_NAME] = (f"(1, 3, {h}, {w}) float32 RGB normalised with mean "
                                             f"{tuple(round(v, 3) for v in config.mean)} and std "
                                             f"{tuple(round(v, 3) for v in config.std)}, letterboxed")
    s = config.output_stride
    mlmodel.output_description[OUTPUT_NAME] = f"(1, 1, {h // s}, {w // s}) person probability (stride {s})"
    with atomic_target(out) as tmp:
        mlmodel.save(str(tmp))
    return out


def _ct_convert(ct, source, shape):
    return ct.convert(
        source,
        inputs=[ct.TensorType(name=INPUT_NAME, shape=tuple(shape), dtype=np.float32)],
        outputs=[ct.TensorType(name=OUTPUT_NAME, dtype=np.float32)],
        convert_to="mlprogram",
        compute_precision=ct.precision.FLOAT16,
        minimum_deployment_target=ct.target.macOS13,
    )
