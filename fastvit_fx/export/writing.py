"""Writing exports safely and quietly: atomic replacement, and the exporters' warnings kept off stderr."""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

log = logging.getLogger("fastvit_fx.export")


@contextlib.contextmanager
def atomic_target(out: Path):
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


class _RootRecordsToDebug(logging.Filter):
    """On the root logger: records logged on it directly (libraries calling `logging.warning`) are
    re-logged on our logger at DEBUG and dropped. Records of named loggers never pass through it."""

    def filter(self, record: logging.LogRecord) -> bool:
        log.debug("library: %s", record.getMessage())
        return False


class _LastResortStandIn(logging.Handler):
    """Stands in for logging.lastResort while the block runs: a root logger without handlers makes
    `logging.warning()` call basicConfig, which would print every later record in the process as
    'WARNING:name:...'. Warnings of named loggers still reach stderr as they would have."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        if logging.lastResort is not None:
            logging.lastResort.emit(record)


@contextlib.contextmanager
def library_messages_to_debug():
    """Exporters and ONNX Runtime's quantiser warn a lot (tracer, deprecations, 'Please consider to
    run pre-processing before quantization'); none of it is something a user can act on, so inside
    the block Python warnings and records on the root logger go to the fastvit_fx.export logger at
    DEBUG (shown where logging is configured verbose, hidden by default)."""
    root = logging.getLogger()
    to_debug, stand_in = _RootRecordsToDebug(), None
    root.addFilter(to_debug)
    if not root.handlers:
        stand_in = _LastResortStandIn()
        root.addHandler(stand_in)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        root.removeFilter(to_debug)
        if stand_in is not None:
            root.removeHandler(stand_in)
    for w in caught:
        log.debug("library warning: %s: %s", w.category.__name__, w.message)
