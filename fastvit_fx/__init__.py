"""fastvit-fx: live webcam effects driven by a FastViT person segmenter."""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Segmenter", "__version__"]


def __getattr__(name: str):
    # lazy: `import fastvit_fx` stays cheap (no torch) for the CLI's fast paths and the Qt app
    if name == "Segmenter":
        from .segment import Segmenter

        return Segmenter
    raise AttributeError(name)
