"""What the CPU can do, where it changes how we build (int8 weights range)."""
from __future__ import annotations


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
