"""Cheap probes of what can run here, without importing the runtimes themselves.

`auto` must decide before anything heavy is imported: asking torch whether CUDA is present costs
about two seconds and several hundred MB, so the accelerator is guessed from files on disk, and
a wrong guess costs only a fallback (the torch backend checks the device for real).
"""
from __future__ import annotations

import importlib.util
import os
import platform as _platform
import sys
from pathlib import Path

# The CPU runtime `auto` prefers. int8 (dense convs, stem and classifier fp32, calibrated on the frames
# in models/calibration) ran in ~0.7x the fp32 time and, with the shipped weights, matched torch on the
# val split: 0.9042 vs 0.9042 on photos, 0.8573 vs 0.8581 in 1280x720 frames (docs/backends.md).
# Set to "onnx" to make fp32 the CPU default (int8 falls back to fp32 ONNX, then torch, on any failure).
CPU_DEFAULT = "onnx-int8"


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _torch_lib_dir() -> Path | None:
    spec = importlib.util.find_spec("torch") if installed("torch") else None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "lib"


def torch_accelerator_hint(platform: str | None = None) -> str | None:
    """'cuda' where torch is a CUDA build and an NVIDIA driver is present, 'mps' on Apple silicon
    with torch installed, else None. Read from files: torch is not imported."""
    platform = sys.platform if platform is None else platform
    lib = _torch_lib_dir()
    if lib is None:
        return None
    if platform == "darwin":
        return "mps" if _platform.machine() == "arm64" else None
    cuda_build = any(lib.glob("libtorch_cuda*")) or any(lib.glob("torch_cuda*.dll"))
    if not cuda_build:
        return None
    if platform.startswith("linux"):
        driver = Path("/proc/driver/nvidia/version").exists()
    elif platform == "win32":
        driver = (Path(os.environ.get("SystemRoot", r"C:\Windows")) / "System32" / "nvcuda.dll").exists()
    else:
        driver = False
    return "cuda" if driver else None


def auto_candidates(device: str | None = None, platform: str | None = None,
                    accelerator: str | None | bool = False, have=installed) -> list[str]:
    """Backends `auto` tries, best first (each later one is the fallback if the earlier fails).

    device: an explicit torch device ('cpu', 'cuda', 'mps'); a GPU device means torch, 'cpu' means
    the fastest CPU runtime. platform/accelerator/have are probes, overridable for tests
    (accelerator False = torch_accelerator_hint()).
    """
    platform = sys.platform if platform is None else platform
    if device is not None and device.split(":")[0] in ("cuda", "mps"):
        return ["torch"]
    order: list[str] = []
    if device is None:
        if platform == "darwin" and have("coremltools"):
            order.append("coreml")
        accel = torch_accelerator_hint(platform) if accelerator is False else accelerator
        if accel:
            order.append("torch")
    if have("onnxruntime"):  # running an export needs only the runtime; building one also needs onnx
        order += [CPU_DEFAULT, "onnx"] if CPU_DEFAULT != "onnx" else ["onnx"]
    if "torch" not in order:
        order.append("torch")
    return order


def available_backends() -> tuple[str, ...]:
    """Concrete backends that can run here (torch always), for `fastvit-fx bench`."""
    names = ["torch"]
    if installed("onnxruntime"):
        names += ["onnx", "onnx-int8"]  # int8: quantised on first use, calibrated on the shipped frames
    if sys.platform == "darwin" and installed("coremltools"):
        names.append("coreml")
    return tuple(names)
