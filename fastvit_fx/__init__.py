"""fastvit-fx: live webcam effects driven by a FastViT person segmenter."""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Segmenter", "open_segmenter", "__version__"]


def __getattr__(name: str):
    # lazy: `import fastvit_fx` stays cheap for the CLI's fast paths and the Qt app
    if name in ("Segmenter", "open_segmenter"):
        from . import segment

        return getattr(segment, name)
    raise AttributeError(name)
