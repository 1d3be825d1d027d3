"""Weights I/O: one .safetensors file holds the tensors and, in its metadata, the ModelConfig."""
from __future__ import annotations

from pathlib import Path

import torch

from .config import ModelConfig
from .header import CONFIG_KEY, WeightsError  # noqa: F401  (defined torch-free: the runtime reads headers)
from .segnet import SegNet, build_model

FORMAT_KEY = "format"


def save_weights(model: SegNet, path: str | Path, half: bool = False) -> Path:
    """Write the unfused model's tensors (optionally fp16) with its config in the metadata."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {}
    for key, value in model.state_dict().items():
        value = value.detach().cpu().contiguous()
        if half and value.is_floating_point():
            value = value.half()
        state[key] = value
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(state, str(tmp), metadata={CONFIG_KEY: model.config.to_json(), FORMAT_KEY: "pt"})
    tmp.replace(path)  # atomic: a crash mid-write never leaves a half file under the real name
    return path


def load_weights(path: str | Path) -> tuple[ModelConfig, dict[str, torch.Tensor]]:
    """Read config and tensors, turning every failure into a one-line WeightsError."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise WeightsError(path, "no such file")
    if path.is_dir():
        raise WeightsError(path, "is a folder, not a .safetensors file")
    if path.stat().st_size < 8:
        raise WeightsError(path, f"truncated ({path.stat().st_size} bytes)")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except Exception as exc:  # safetensors raises its own error types for every corruption
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WeightsError(path, f"not a readable safetensors file ({detail})") from None
    if CONFIG_KEY not in metadata:
        raise WeightsError(path, f"no '{CONFIG_KEY}' in the metadata; not a fastvit-fx weights file")
    try:
        config = ModelConfig.from_json(metadata[CONFIG_KEY])
    except (ValueError, TypeError) as exc:
        raise WeightsError(path, f"bad model config ({exc})") from None
    return config, tensors


def load_model(path: str | Path, fuse: bool = True) -> SegNet:
    """Rebuild the network described by the file, load its tensors (as fp32), optionally fuse it."""
    config, tensors = load_weights(path)
    model = build_model(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing tensors (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensors (e.g. {unexpected[0]})")
        raise WeightsError(path, f"does not match {config.arch}: " + ", ".join(parts))
    for key, value in tensors.items():
        if value.shape != expected[key].shape:
            raise WeightsError(
                path, f"tensor {key} has shape {tuple(value.shape)}, expected {tuple(expected[key].shape)}"
            )
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise WeightsError(path, f"tensor {key} holds NaN or infinite values")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
    model.eval()
    if fuse:
        from .reparam import reparameterize

        reparameterize(model)
    return model
