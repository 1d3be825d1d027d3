"""Build steps: turn a weights file into the files the runtimes load (ONNX fp32 and int8, Core ML).

torch and timm are imported here only inside the functions that build (onnx.py, int8.py via
calibration, coreml.py, network.py); cache.py, shapes.py and metadata.py stay torch-free, because
the runtime uses them to find an export that is already built. `build.build_export` is the one
place the runtime calls when no current export exists.

Nothing is imported here: `import fastvit_fx.export.cache` must stay cheap.
"""
