"""The live path pairs every frame with its own mask (or one carried to it), never the newest mask on a
newer frame; a cut resets at once; the offline driver writes what the live one shows."""
from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from fastvit_fx.io.capture import ArraySource, Frame, FrameSource
from fastvit_fx.live import LiveDriver, MaskMode, View, as_effect, compose
from fastvit_fx.live.carry import MaskCarrier, thumbnail
from fastvit_fx.live.cuts import CutDetector
from fastvit_fx.live.offline import compose_frames

W, H = 192, 108


def scene(x: int, y: int = 30, w: int = 36, h: int = 56, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A textured grey room and a striped yellow 'person' at (x, y): (frame, exact mask)."""
    rng = np.random.default_rng(seed)
    grey = rng.integers(20, 120, (H, W), dtype=np.uint8)
    frame = cv2.merge([grey, grey, grey])
    truth = np.zeros((H, W), np.float32)
    truth[y:y + h, x:x + w] = 1
    stripes = (160 + 90 * (np.arange(h)[:, None] % 8 < 4)).astype(np.uint8)
    frame[y:y + h, x:x + w] = (0, 200, 0)
    frame[y:y + h, x:x + w, 2] = np.broadcast_to(stripes, (h, w))
    return frame, truth


def key_mask(frame: np.ndarray) -> np.ndarray:
    """The exact mask back from a frame (only the person has red without blue)."""
    return ((frame[..., 2] > 150) & (frame[..., 0] < 10)).astype(np.float32)


class KeyingSegmenter:
    """Finds the person exactly, slowly; like the real one it remembers (a trail, unless reset)."""

    backend_name = "fake"

    def __init__(self, delay: float = 0.0, trail: bool = False) -> None:
        self.delay, self.trail = delay, trail
        self.last_ms = delay * 1000
        self.resets = 0
        self.intervals: list[float | None] = []  # what the driver said of the time between frames
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        self.resets += 1
        self._previous = None

    def __call__(self, frame: np.ndarray, interval_s: float | None = None) -> np.ndarray:
        self.intervals.append(interval_s)
        time.sleep(self.delay)
        mask = key_mask(frame)
        if self.trail and self._previous is not None:
            mask = np.maximum(mask, 0.8 * self._previous)  # a smoother's memory, exaggerated
        self._previous = mask
        return mask


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    return float((a & b).sum() / max((a | b).sum(), 1))


def collect(driver: LiveDriver, count: int, timeout: float = 30.0) -> list:
    outputs: list = []
    driver.add_sink(outputs.append)
    with driver:
        assert driver.wait_frames(count, timeout=timeout)
    return outputs


def walking(n: int, step: int = 3) -> tuple[list, list]:
    frames, truths = zip(*(scene(10 + (i * step) % 130) for i in range(n)))
    return list(frames), list(truths)


def test_the_segmenter_is_told_the_time_between_the_frames_it_gets():
    # 20 masks a second against a 60 fps camera: each frame it gets is several capture intervals after
    # the one before (the smoother blends per second, so a slow machine's mask does not lag more)
    frame, truth = scene(40)  # still: no cut between the frames it gets
    seg = KeyingSegmenter(delay=0.05)
    collect(LiveDriver(ArraySource([frame], fps=60, truths=[truth]), seg, None), 20)
    assert seg.intervals[0] is None  # the first frame of a scene has none before it
    assert len(seg.intervals) > 3
    assert all(interval is not None and interval > 1.5 / 60 for interval in seg.intervals[1:])


@pytest.mark.parametrize("mode", [MaskMode.OWN, MaskMode.CARRY])
def test_each_frame_gets_its_own_mask_under_a_slow_segmenter(mode):
    frames, truths = walking(40)
    seg = KeyingSegmenter(delay=0.05)  # 20 masks a second against a 60 fps source
    outputs = collect(LiveDriver(ArraySource(frames, fps=60, truths=truths), seg, None, mask_mode=mode), 40)
    seqs = [o.seq for o in outputs]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    own = [o for o in outputs if not o.carried]
    assert own and all(o.mask_seq == o.seq for o in own)
    for o in own:  # the very mask computed on this frame: exact
        assert np.array_equal(o.mask, key_mask(o.frame.image))
    carried = [o for o in outputs if o.carried]
    if mode is MaskMode.OWN:
        assert not carried
        assert outputs[-1].seq - outputs[0].seq + 1 > 1.5 * len(outputs)  # fewer frames shown than captured
    else:
        assert carried  # the frames the segmenter skipped are shown, with a neighbour's mask carried
        assert all(o.mask_seq != o.seq for o in carried)
        assert min(iou(o.mask, o.frame.truth) for o in carried) > 0.85
        # what the newest mask would have given those frames: the person a few frames back
        stale = [iou(key_mask(frames[(o.frame.index - 4) % 40]), o.frame.truth) for o in carried]
        assert np.mean([iou(o.mask, o.frame.truth) for o in carried]) > np.mean(stale) + 0.1


class JumpingSource(FrameSource):
    """A person standing still at one place, then (a cut) at another; paced."""

    def __init__(self, before: int, after: int, fps: float = 60.0) -> None:
        super().__init__()
        self.name, self.fps = "jumping", fps
        self.scenes = [scene(20), scene(130)]
        self.plan = [0] * before + [1] * after
        self.size = (W, H)

    def _loop(self) -> None:
        for which in self.plan:
            if self._sleep(1 / self.fps):
                return
            image, truth = self.scenes[which]
            self._emit(image, truth=truth)
        self.state = "ended"


@pytest.mark.parametrize("mode", [MaskMode.OWN, MaskMode.CARRY])
def test_a_cut_resets_the_mask_at_once(mode):
    seg = KeyingSegmenter(delay=0.03, trail=True)
    driver = LiveDriver(JumpingSource(20, 40), seg, None, mask_mode=mode)
    outputs = []
    driver.add_sink(outputs.append)
    with driver:
        assert driver.ended.wait(20)
    after = [o for o in outputs if o.frame.truth[:, 130:].any()]
    assert after, "no frame after the cut was shown"
    assert seg.resets >= 1 and driver.cuts >= 1
    for o in after:  # from the very first frame after the cut: nothing where the person was before
        assert o.mask[:, :100].max() < 0.5, f"ghost on frame {o.seq} ({'carried' if o.carried else 'own'})"
        assert iou(o.mask, o.frame.truth) > 0.9


def test_cut_detector_tells_a_jump_from_fast_motion():
    detector = CutDetector()
    a, b = thumbnail(scene(20)[0]), thumbnail(scene(26)[0])
    assert not detector.between(a, b)  # six pixels further: motion
    assert detector.between(a, thumbnail(scene(130)[0]))  # across the room in one frame: a cut
    assert detector.between(a, thumbnail(scene(20, seed=5)[0]))  # another room: a cut
    assert not detector.is_cut(a) and not detector.is_cut(b) and detector.is_cut(thumbnail(scene(130)[0]))


def test_carried_mask_follows_the_motion():
    (f0, m0), (f1, m1) = scene(40), scene(46)
    carried = MaskCarrier()(m0, thumbnail(f0), thumbnail(f1))
    assert iou(carried, m1) > 0.9 > iou(m0, m1) + 0.05


class LockstepSource(FrameSource):
    """Emits frame i+1 only once frame i was shown, captured at start + i / fps: the live driver sees
    every frame, at the effect times the offline driver gives them (a start on a 1/32 s tick and
    32 fps keep the sums exact)."""

    def __init__(self, frames: list, fps: float = 32.0) -> None:
        super().__init__()
        self.name, self.fps, self.frames_to_send = "lockstep", fps, frames
        self.shown = threading.Semaphore(0)

    def _loop(self) -> None:
        start = int(time.monotonic() * self.fps) / self.fps
        for i, image in enumerate(self.frames_to_send):
            self._emit(image, t=start + i / self.fps)
            while not self.shown.acquire(timeout=0.05):
                if self._stop.is_set():
                    return
        self.state = "ended"


@pytest.mark.parametrize("mode", [MaskMode.OWN, MaskMode.CARRY])
def test_render_writes_what_the_live_path_shows(mode):
    fx = pytest.importorskip("fastvit_fx.fx")
    preset = fx.load_presets().get("rim-light")
    frames, _ = walking(12)
    source = LockstepSource(frames)
    driver = LiveDriver(source, KeyingSegmenter(), fx.EffectRenderer(preset), mask_mode=mode)
    live = []
    driver.add_sink(lambda out: (live.append(out), source.shown.release()))
    with driver:
        assert driver.ended.wait(30)
    offline = list(compose_frames(frames, KeyingSegmenter(), fx.EffectRenderer(preset), fps=32))
    assert [o.seq for o in live] == list(range(1, 13))
    for a, b in zip(live, offline):
        assert np.array_equal(a.mask, b.mask)
        assert np.array_equal(a.image, b.image)


def test_compose_mirror_debug_and_a_failing_effect():
    frame, mask = scene(20)

    def paint(image, m, t):
        out = image.copy()
        out[m > 0.5] = (0, 255, 0)
        return out

    effect, name = as_effect(paint)
    assert name == "paint"
    out = compose(frame, mask, 0.0, effect, view=View(mirror=True))
    assert np.array_equal(out.mask, mask[:, ::-1]) and (out.image[:, W - 30] == (0, 255, 0)).all(axis=-1).any()
    assert not (out.image[:, 25] == (0, 255, 0)).all(axis=-1).any()
    debug = compose(frame, mask, 0.0, effect, view=View(debug=True))
    assert not (debug.image == (0, 255, 0)).all(axis=-1).any()
    loading = compose(frame, None, 0.0, effect, run_without_mask=False)
    assert np.array_equal(loading.image, frame) and loading.image is not frame

    def broken(image, m, t):
        raise RuntimeError("boom")

    failed = compose(frame, mask, 0.0, as_effect(broken)[0], name="broken")
    assert np.array_equal(failed.image, frame) and "boom" in failed.error and "broken" in failed.error


def test_a_failing_segmenter_does_not_stop_the_picture(capsys):
    from fastvit_fx.live import ModelState

    def broken(frame, interval_s=None):
        raise RuntimeError("network exploded")

    frames, truths = walking(8)
    driver = LiveDriver(ArraySource(frames, fps=60, truths=truths), broken, None)
    with driver:
        assert driver.wait_frames(20)
        assert driver.model_state is ModelState.FAILED and "network exploded" in driver.model_message
    assert driver.last_output.mask is None and driver.masks_made == 0


def test_the_live_room_imports_neither_qt_nor_torch():
    import subprocess
    import sys

    code = ("import sys, fastvit_fx.live, fastvit_fx.live.session, fastvit_fx.live.offline, fastvit_fx.live.sinks; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'timm', 'PyQt6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_pairing_waits_for_own_masks_and_carries_when_due():
    from fastvit_fx.live.pairing import CarryPairing, Segmented

    pairing = CarryPairing()
    scenes = [scene(20 + 2 * i) for i in range(4)]
    frames = [Frame(image, 100.0 + i / 30, i + 1, truth) for i, (image, truth) in enumerate(scenes)]

    def segmented(i, ready_at):
        frame = frames[i]
        return Segmented(i + 1, frame, frame.truth, thumbnail(frame.image), 0, ready_at)

    for i, frame in enumerate(frames):
        pairing.add_frame(i + 1, frame)
    assert pairing.due(100.0) == []  # no mask yet: nothing to show, nothing to carry
    pairing.add_mask(segmented(0, ready_at=100.05))  # frame 1's own mask, 50 ms after its capture
    due = pairing.due(100.06)
    assert [seq for seq, _ in due] == [1]  # frame 2 is not due yet (its own mask may still come)
    first = pairing.pair(*due[0])
    assert not first.carried and first.mask_seq == 1 and np.array_equal(first.mask, frames[0].truth)
    due = pairing.due(100.2)  # long past frames 2-4's time: shown with frame 1's mask carried to them
    assert [seq for seq, _ in due] == [2, 3, 4]
    carried = [pairing.pair(seq, frame) for seq, frame in due]
    assert all(p.carried and p.mask_seq == 1 for p in carried)
    assert all(iou(p.mask, p.frame.truth) > 0.9 for p in carried)
    pairing.add_mask(segmented(2, ready_at=100.21))  # frame 3's own mask, late: the nearest from now on
    assert pairing.previous.seq == 3 and not pairing.masks
