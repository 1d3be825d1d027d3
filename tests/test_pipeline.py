"""The headless live driver: newest-frame-wins segmentation, every frame shown (carry mode), sinks, stats,
mirror and debug view, a model that appears late, failures that don't stop the picture."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from fastvit_fx.io.capture import ArraySource, DemoSource
from fastvit_fx.model import WeightsError
from fastvit_fx.live import LiveDriver as Pipeline
from fastvit_fx.live import MaskMode, ModelState, RateMeter, View
from fastvit_fx.live.debug_view import mask_debug_view


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.01)
    return predicate()


def gradient_frames(n=4, w=64, h=48):
    x = np.linspace(0, 255, w, dtype=np.float32)
    base = np.broadcast_to(x[None, :, None], (h, w, 3)).astype(np.uint8)
    return [np.ascontiguousarray(np.roll(base, i, axis=1)) for i in range(n)]


class SlowSegmenter:
    """Left half is 'person'; slower than the source so the newest-frame-wins rule shows."""

    def __init__(self, delay=0.03):
        self.delay = delay
        self.calls = 0
        self.seen = []
        self.last_ms = 0.0
        self.last_size = 192
        self.backend_name = "fake"

    def __call__(self, frame, interval_s=None):
        self.calls += 1
        time.sleep(self.delay)
        self.last_ms = self.delay * 1000
        mask = np.zeros(frame.shape[:2], np.float32)
        mask[:, : frame.shape[1] // 2] = 1.0
        return mask


def red_person(frame, mask, t):
    out = frame.copy()
    if mask is not None:
        out[mask > 0.5] = (0, 0, 255)
    return out


def test_segmenter_takes_the_newest_frame_and_render_keeps_the_source_rate():
    seg = SlowSegmenter(delay=0.05)
    source = ArraySource(gradient_frames(), fps=100)
    outputs = []
    with Pipeline(source, seg, red_person, mask_mode=MaskMode.CARRY) as pipeline:
        pipeline.add_sink(outputs.append)
        assert pipeline.wait_frames(60, timeout=30)
        assert pipeline.wait_masks(2)
    # frames the slow segmenter skipped were shown too, with a mask carried to them: it never held
    # up the picture and never worked through a backlog
    assert seg.calls < pipeline.frames_out
    assert any(o.carried for o in outputs) and any(o.mask_seq == o.seq for o in outputs)
    assert pipeline.masks_made == seg.calls or pipeline.masks_made == seg.calls - 1
    with_mask = [o for o in outputs if o.mask is not None]
    assert with_mask, "no frame got a mask"
    out = with_mask[-1]
    assert (out.image[:, :10] == (0, 0, 255)).all()  # left half is the 'person'
    assert np.array_equal(out.image[:, -10:], out.frame.image[:, -10:])
    seqs = [o.seq for o in outputs]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # in order, never twice


def test_stats_report_rates_and_latency():
    with Pipeline(ArraySource(gradient_frames(), fps=60), SlowSegmenter(0.01), red_person) as pipeline:
        assert pipeline.wait_frames(30) and pipeline.wait_masks(5)
        stats = pipeline.stats()
    assert stats.fps > 0 and stats.seg_fps > 0
    assert stats.seg_ms == pytest.approx(10.0)
    assert stats.latency_ms >= 10 and stats.render_ms >= 0  # shown after its own mask: at least seg time
    assert stats.frames >= 30 and stats.masks >= 5 and stats.backend == "fake"
    assert stats.input_size == 192  # the HUD shows which input size the masks ran at
    assert stats.effect == "red_person"


def test_mirror_flips_frame_and_mask_together():
    outputs = []
    with Pipeline(ArraySource(gradient_frames(), fps=100), SlowSegmenter(0.0), red_person,
                  view=View(mirror=True)) as p:
        p.add_sink(outputs.append)
        assert p.wait_masks(3) and p.wait_frames(p.frames_out + 5)
    out = outputs[-1]
    assert out.mask is not None and out.mask[:, -1].min() == 1.0  # the 'person' moved to the right
    assert (out.image[:, -10:] == (0, 0, 255)).all()


def test_debug_view_and_effect_switch():
    outputs = []
    with Pipeline(ArraySource(gradient_frames(), fps=100), SlowSegmenter(0.0), red_person) as p:
        p.add_sink(outputs.append)
        assert p.wait_masks(2)
        p.set_view(debug=True)
        n = p.frames_out
        assert p.wait_frames(n + 3)
        debug_out = outputs[-1]
        assert not (debug_out.image[:, :10] == (0, 0, 255)).all()
        p.set_view(debug=False)
        assert p.set_effect(None, name="none") == "none"
        n = p.frames_out
        assert p.wait_frames(n + 3)
    assert np.array_equal(outputs[-1].image, outputs[-1].frame.image)
    assert outputs[-1].effect == "none"


def test_mask_debug_view_shapes():
    frame = gradient_frames(1, 320, 180)[0]
    mask = np.zeros((180, 320), np.float32)
    mask[40:140, 100:200] = 1
    view = mask_debug_view(frame, mask)
    assert view.shape == frame.shape and view.dtype == np.uint8
    assert mask_debug_view(frame, None).shape == frame.shape


def test_model_missing_then_appearing():
    """No weights yet: frames still flow (effect runs mask-less), the reason is kept; then it loads."""
    ready = threading.Event()
    seg = SlowSegmenter(0.0)

    def factory():
        if not ready.is_set():
            raise WeightsError("models/fastvit_t8_person.safetensors", "no such file")
        return seg

    outputs = []
    with Pipeline(ArraySource(gradient_frames(), fps=100), effect=red_person, segmenter_factory=factory,
                  retry_s=0.05) as p:
        p.add_sink(outputs.append)
        assert wait_until(lambda: p.model_message and "no such file" in p.model_message)
        assert p.model_state is ModelState.UNAVAILABLE
        assert "fastvit_t8_person.safetensors" in p.model_message
        assert p.wait_frames(10)
        assert all(o.mask is None for o in outputs)
        ready.set()
        assert wait_until(lambda: p.model_state is ModelState.READY and p.model_message is None)
        assert p.wait_masks(2)
        n = p.frames_out
        assert p.wait_frames(n + 3)
    assert outputs[-1].mask is not None and p.segmenter is seg


def test_failing_effect_does_not_stop_the_picture(capsys):
    def broken(frame, mask, t):
        raise RuntimeError("boom")

    with Pipeline(ArraySource(gradient_frames(), fps=100), SlowSegmenter(0.0), broken) as p:
        assert p.wait_masks(1)
        n = p.frames_out
        assert p.wait_frames(n + 5)
        assert "boom" in p.render_error
    assert p.last_output is not None and np.array_equal(p.last_output.image, p.last_output.frame.image)


def test_source_that_ends_is_noticed():
    with Pipeline(ArraySource(gradient_frames(), fps=200, count=10), SlowSegmenter(0.0)) as p:
        assert p.ended.wait(10)
    assert p.frames_out <= 10


def test_swapping_the_source_while_running():
    a = ArraySource([np.zeros((48, 64, 3), np.uint8)], fps=100, name="a")
    b = ArraySource([np.full((30, 40, 3), 200, np.uint8)], fps=100, name="b")
    with Pipeline(a, SlowSegmenter(0.0), red_person) as p:
        assert p.wait_masks(1)
        p.set_source(b)
        assert not a.running and b.running
        assert wait_until(lambda: p.last_output is not None and p.last_output.image.shape == (30, 40, 3))


def test_demo_source_with_the_real_segmenter_and_effects():
    from fastvit_fx.backends.torch_backend import TorchBackend
    from fastvit_fx.model import build_model
    from fastvit_fx.segment import Segmenter

    fx = pytest.importorskip("fastvit_fx.fx")
    presets = fx.load_presets()
    model = build_model()
    segmenter = Segmenter(TorchBackend(model, device="cpu"), model.config, smooth=True)
    with Pipeline(DemoSource(320, 180, fps=30), segmenter, fx.EffectRenderer(presets.get("blur-bg"))) as p:
        assert p.wait_masks(2, timeout=60)
        n = p.frames_out
        assert p.wait_frames(n + 2)
    out = p.last_output
    assert out.image.shape == (180, 320, 3) and out.mask.shape == (180, 320)
    assert out.effect == "blur-bg"


def test_rate_meter():
    meter = RateMeter(window=10.0)
    for i in range(11):
        meter.tick(100.0 + i * 0.1)
    assert meter.rate(101.0) == pytest.approx(10.0)
