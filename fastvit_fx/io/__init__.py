"""Where frames come from and where they go: sources (a camera, a video file, the built-in demo
scene: `capture.py`, `demo.py`) and sinks (the crash-safe clip recorder: `record.py`). No Qt and no
torch here."""
