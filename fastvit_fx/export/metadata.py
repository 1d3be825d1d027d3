"""The metadata every exported file carries: the model config and the weights' digest.

Writing it is part of the build; reading it is torch-free (ONNX: the `onnx` package; Core ML: the
spec through coremltools). The runtime itself reads it from the loaded session (backend.metadata),
which avoids importing `onnx` (about a second) just to check a file.
"""
from __future__ import annotations

import json
from pathlib import Path

INPUT_NAME = "input"
OUTPUT_NAME = "prob"
META_PREFIX = "fastvit_fx."


def _package_version() -> str:
    from .. import __version__

    return __version__


def export_metadata(config, digest: str, input_hw: tuple[int, int] | None, size: int,
                    precision: str) -> dict[str, str]:
    """String metadata stored in every exported file (ONNX metadata_props, Core ML user metadata)."""
    from .cache import EXPORT_VERSION

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


def set_onnx_metadata(proto, meta: dict[str, str]) -> None:
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


def coreml_metadata(path: str | Path) -> dict[str, str]:
    """fastvit-fx metadata of a .mlpackage (reads the spec only: works on Linux too)."""
    from ..backends.coreml_backend import read_coreml_spec

    spec = read_coreml_spec(Path(path))
    return {k[len(META_PREFIX):]: v for k, v in spec.description.metadata.userDefined.items()
            if k.startswith(META_PREFIX)}
