"""Export the fused network for other runtimes: ONNX (fp32, optionally int8) and Core ML.

Every exported file computes the same thing as ``TorchBackend``: (1, 3, H, W) float32 normalised RGB
in, (1, 1, H/4, W/4) float32 person *probability* out (the sigmoid is part of the graph). Each file
carries the model config and the SHA-256 of the weights it came from, so a backend can tell a stale
export (the weights were retrained since) from a current one.

Exported files are generated, never committed: `fastvit-fx export` writes them next to the weights
(models/) by default, and the backends export once into ``user_cache_dir()`` when none is found.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Iterable

import numpy as np

from .base import BackendError

# Bumped whenever the exported graph, its metadata or the int8 calibration change, so old cached
# files are not reused (4: int8 calibrates on the shipped frames in models/calibration, stem fp32).
EXPORT_VERSION = 4
INPUT_NAME = "input"
OUTPUT_NAME = "prob"
META_PREFIX = "fastvit_fx."
# Core ML needs one fixed input shape: the letterbox of a 16:9 webcam frame at the default size.
DEFAULT_ASPECT = (16, 9)
STRIDE = 32


# ---------------------------------------------------------------------------------------------
# shared helpers


def weights_digest(path: str | Path) -> str:
    """SHA-256 of a weights file (hex); exports record it to detect stale files."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fixed_input_hw(size: int, aspect: tuple[int, int] = DEFAULT_ASPECT) -> tuple[int, int]:
    """(H, W) network input for a fixed-shape runtime: the letterbox of a W:H frame at `size`.

    size 256, 16:9 -> (160, 256): a 1280x720 frame scales to 256x144 and pads to 256x160, the same
    tensor the dynamic-shape backends see. A portrait aspect gives the transposed shape.
    """
    if size < STRIDE:
        raise ValueError(f"input size must be at least {STRIDE}, got {size}")
    aw, ah = aspect
    if aw <= 0 or ah <= 0:
        raise ValueError(f"aspect must be two positive numbers, got {aw}:{ah}")
    long_side = math.ceil(size / STRIDE) * STRIDE
    if aw >= ah:
        short = size * ah / aw
        return math.ceil(round(short, 6) / STRIDE) * STRIDE, long_side
    short = size * aw / ah
    return long_side, math.ceil(round(short, 6) / STRIDE) * STRIDE


def parse_aspect(text: str) -> tuple[int, int]:
    """'16:9' -> (16, 9)."""
    try:
        w, h = (int(v) for v in text.replace("x", ":").split(":"))
    except ValueError:
        raise ValueError(f"aspect {text!r}: expected W:H, e.g. 16:9") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"aspect {text!r}: both sides must be positive")
    return w, h


def _package_version() -> str:
    from .. import __version__

    return __version__


def export_metadata(config, digest: str, input_hw: tuple[int, int] | None, size: int,
                    precision: str) -> dict[str, str]:
    """String metadata stored in every exported file (ONNX metadata_props, Core ML user metadata)."""
    return {
        "labels": json.dumps(list(config.labels)),
        "input_size": str(size),
        "input_hw": json.dumps(list(input_hw)) if input_hw else "dynamic (multiples of 32)",
        "mean": json.dumps(list(config.mean)),
        "std": json.dumps(list(config.std)),
        "output": "person probability at stride {0}, (1, 1, H/{0}, W/{0})".format(config.output_stride),
        "precision": precision,
        "version": _package_version(),
        "export_version": str(EXPORT_VERSION),
        "weights_sha256": digest,
        "config": config.to_json(),
    }


def with_sigmoid(model):
    """The fused SegNet followed by its sigmoid: exported graphs output probabilities."""
    import torch

    class Probability(torch.nn.Module):
        def __init__(self, net) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(self.net(x))

    return Probability(model).eval()


def load_for_export(weights: str | Path):
    """(fused SegNet with low-resolution (stride 4 or 2) output wrapped with its sigmoid, config, digest)."""
    from ..model import load_model

    model = load_model(weights, fuse=True)
    model.lowres_output = True
    return with_sigmoid(model), model.config, weights_digest(weights)


@contextlib.contextmanager
def _atomic_target(out: Path):
    """Yield a temporary path beside `out`; move it over `out` only if the block succeeds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    tmp = tmp_dir / out.name
    try:
        yield tmp
        if out.is_dir():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


@contextlib.contextmanager
def _quiet():
    """Exporters warn a lot (tracer, deprecations, untested torch version): none of it is actionable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ---------------------------------------------------------------------------------------------
# ONNX


ONNX_OPSET = 20  # the first with a Gelu op: one fused node, also after int8 quantisation (see below)


def export_onnx(weights: str | Path, out: str | Path, size: int | None = None, opset: int = ONNX_OPSET) -> Path:
    """Write an fp32 ONNX model with dynamic height and width (any multiples of 32).

    Opset 20 exports GELU as one Gelu node. At opset 17 it is spelled out (Div, Erf, Add, Mul, Mul);
    ONNX Runtime fuses that back in an fp32 graph but not in the quantised one, where the unfused
    GELUs cost about 15% of the int8 run time.
    """
    import torch

    try:
        import onnx
    except ImportError:
        raise BackendError("onnx export needs the 'onnx' package: pip install 'fastvit-fx[onnx]'") from None
    model, config, digest = load_for_export(weights)
    size = int(size or config.input_size)
    h, w = fixed_input_hw(size)
    x = torch.zeros(1, 3, h, w)
    out = Path(out)
    with _atomic_target(out) as tmp, _quiet(), torch.no_grad():
        # The TorchScript-based exporter: the dynamo one needs onnxscript, which we do not depend on.
        torch.onnx.export(
            model, (x,), str(tmp), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {2: "height", 3: "width"}, OUTPUT_NAME: {2: "height_4", 3: "width_4"}},
            opset_version=opset, do_constant_folding=True, dynamo=False,
        )
        proto = onnx.load(str(tmp))
        _inline_shared_initializers(proto)
        meta = export_metadata(config, digest, None, size, "fp32")
        _set_onnx_metadata(proto, meta)
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
    return out


def _inline_shared_initializers(proto) -> None:
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


def _set_onnx_metadata(proto, meta: dict[str, str]) -> None:
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = META_PREFIX + key, value
    proto.producer_name = "fastvit-fx"
    proto.producer_version = meta["version"]
    proto.doc_string = f"fastvit-fx person segmenter ({json.loads(meta['config'])['arch']}), {meta['precision']}"


def onnx_metadata(proto_or_path) -> dict[str, str]:
    """The fastvit-fx metadata of an ONNX model (without the prefix); {} for a foreign model."""
    import onnx

    proto = onnx.load(str(proto_or_path), load_external_data=False) if isinstance(proto_or_path, (str, Path)) \
        else proto_or_path
    return {p.key[len(META_PREFIX):]: p.value for p in proto.metadata_props if p.key.startswith(META_PREFIX)}


def calibration_inputs(images: Iterable[np.ndarray], config, size: int,
                       frame_hw: tuple[int, int] | None = (720, 1280)) -> list[np.ndarray]:
    """Network inputs for int8 calibration: each BGR image placed as the app would see it.

    frame_hw: put each image into a webcam-sized frame first (centred on grey), as evaluation does;
    None uses the images as they are. Inputs are letterboxed at `size` exactly like the Segmenter.
    """
    import cv2

    from ..segment.letterbox import letterbox_shape, to_network_input

    out = []
    for img in images:
        if frame_hw is not None:
            fh, fw = frame_hw
            s = min(fh / img.shape[0], fw / img.shape[1])
            nh, nw = max(1, round(img.shape[0] * s)), max(1, round(img.shape[1] * s))
            canvas = np.full((fh, fw, 3), 90, np.uint8)
            y0, x0 = (fh - nh) // 2, (fw - nw) // 2
            canvas[y0:y0 + nh, x0:x0 + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
            img = canvas
        box = letterbox_shape(img.shape[0], img.shape[1], size)
        out.append(to_network_input(img, box, config.mean, config.std))
    return out


def shipped_calibration_dir() -> Path:
    """models/calibration: 24 webcam-like frames (people at close, desk and small framings in rooms
    and streets, redistributable sources only), made by scripts/make_calibration_set.py."""
    from ..resources import models_dir

    return models_dir() / "calibration"


def builtin_calibration_frames(count: int = 32, seed: int = 0) -> list[np.ndarray]:
    """Calibration frames with no data at hand: the shipped set (see shipped_calibration_dir), up to
    `count` of them; where it is missing, the built-in demo scene (fastvit_fx/demo.py) at many
    poses, each with a random exposure, contrast, colour cast, noise level and mirror."""
    import cv2

    shipped = shipped_calibration_dir()
    if shipped.is_dir() and any(shipped.glob("*.jpg")):
        return read_calibration_images(shipped, limit=count)

    try:
        from ..demo import DemoScene
    except ImportError:
        raise BackendError("int8 calibration: the built-in demo scene is missing; pass --calib FOLDER") from None
    scene = DemoScene(1280, 720)
    if not scene.from_files:
        import logging

        logging.getLogger("fastvit_fx.backends").warning(
            "int8 calibration: the demo scene's photos are missing, calibrating on its drawn figure; "
            "`fastvit-fx export onnx --int8 --calib FOLDER` calibrates on real frames")
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        frame = scene.frame(0.73 * i + float(rng.uniform(0, 0.5))).astype(np.float32) / 255
        frame = frame ** float(rng.uniform(0.6, 1.7))  # exposure / gamma
        frame = (frame - 0.5) * float(rng.uniform(0.7, 1.3)) + 0.5 + float(rng.uniform(-0.12, 0.12))
        frame = frame * rng.uniform(0.85, 1.15, 3).astype(np.float32)  # colour cast / white balance
        frame = frame + rng.normal(0, float(rng.uniform(0, 0.03)), frame.shape).astype(np.float32)
        frame = np.clip(frame * 255 + 0.5, 0, 255).astype(np.uint8)
        if i % 2:
            frame = cv2.flip(frame, 1)
        frames.append(frame)
    return frames


def read_calibration_images(folder: str | Path, limit: int = 64) -> list[np.ndarray]:
    """Up to `limit` images (sorted by name, evenly spaced) from a folder, as BGR arrays."""
    import cv2

    folder = Path(folder)
    if not folder.is_dir():
        raise BackendError(f"calibration folder {folder}: no such folder")
    suffixes = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes)
    if not paths:
        raise BackendError(f"calibration folder {folder}: no images in it")
    if len(paths) > limit:
        step = len(paths) / limit
        paths = [paths[int(i * step)] for i in range(limit)]
    images = [img for img in (cv2.imread(str(p), cv2.IMREAD_COLOR) for p in paths) if img is not None]
    if not images:
        raise BackendError(f"calibration folder {folder}: none of its images could be read")
    return images


def cpu_has_vnni() -> bool:
    """True where the CPU has AVX-512 VNNI or AVX-VNNI (read from /proc/cpuinfo; False if unknown)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_vnni", "avx_vnni"})
    except OSError:
        pass
    return False


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
        # is where rounding moved wide-frame val mIoU most (-0.006 quantised, +0.003 kept fp32, session-1 weights)
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

    with _atomic_target(out) as tmp, _quiet():
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
        _set_onnx_metadata(qproto, meta)
        onnx.save(qproto, str(tmp))
    return out


# ---------------------------------------------------------------------------------------------
# Core ML


def export_coreml(weights: str | Path, out: str | Path, size: int | None = None,
                  aspect: tuple[int, int] = DEFAULT_ASPECT, input_hw: tuple[int, int] | None = None) -> Path:
    """Write an fp16 ML Program (.mlpackage) with one fixed input shape.

    Input: a float32 tensor "input" (1, 3, H, W), normalised RGB, the letterbox the Segmenter makes
    (the Segmenter letterboxes into the fixed shape via the backend's input_hw). A tensor rather than
    an image input: our pre-processing already yields the normalised tensor, and the Python API
    would need a PIL image per frame for an image input. Output: float32 "prob" (1, 1, H/4, W/4).
    """
    import torch

    from .coreml_backend import _quiet_coremltools, import_coremltools

    ct = import_coremltools()
    model, config, digest = load_for_export(weights)
    size = int(size or config.input_size)
    h, w = input_hw or fixed_input_hw(size, aspect)
    if h % STRIDE or w % STRIDE:
        raise ValueError(f"Core ML input {w}x{h}: both sides must be multiples of {STRIDE}")
    x = torch.zeros(1, 3, h, w)
    out = Path(out)
    with _quiet(), _quiet_coremltools(), torch.no_grad():
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
    with _atomic_target(out) as tmp:
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


def coreml_metadata(path: str | Path) -> dict[str, str]:
    """fastvit-fx metadata of a .mlpackage (reads the spec only: works on Linux too)."""
    from .coreml_backend import read_coreml_spec

    spec = read_coreml_spec(Path(path))
    return {k[len(META_PREFIX):]: v for k, v in spec.description.metadata.userDefined.items()
            if k.startswith(META_PREFIX)}


# ---------------------------------------------------------------------------------------------
# where exports live


def export_name(weights: Path, kind: str, size: int, input_hw: tuple[int, int] | None = None) -> str:
    """File name of an export: fastvit_t8_person.onnx, fastvit_t8_person.int8.onnx,
    fastvit_t8_person-256x160.mlpackage (W x H)."""
    stem = weights.name.removesuffix(".safetensors")
    if kind == "onnx":
        return f"{stem}.onnx"
    if kind == "onnx-int8":
        return f"{stem}.int8.onnx"
    if kind == "coreml":
        h, w = input_hw or fixed_input_hw(size)
        return f"{stem}-{w}x{h}.mlpackage"
    raise ValueError(f"unknown export kind {kind!r}")


def cache_path(weights: Path, kind: str, size: int, digest: str,
               input_hw: tuple[int, int] | None = None) -> Path:
    """Where a backend keeps its own export: user cache, keyed by the weights' digest."""
    from ..resources import user_cache_dir

    return user_cache_dir() / "exports" / f"v{EXPORT_VERSION}-{digest[:16]}" / export_name(weights, kind, size, input_hw)
