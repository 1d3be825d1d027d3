"""Frame sources: the one-slot mailbox, camera open/fail/reconnect (a fake capture), files, the demo."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from fastvit_fx.io.capture import (ArraySource, CameraSource, DemoSource, Mailbox, SourceError, StatusKind,
                                VideoFileSource, VideoReader, demo_frames, list_cameras, open_source)
from fastvit_fx.io.demo import DemoScene


def wait_until(predicate, timeout=10.0, step=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class FakeWorld:
    """A camera that can be unplugged and plugged back in."""

    def __init__(self, size=(64, 48)) -> None:
        self.plugged = True
        self.size = size
        self.opens = 0
        self.counter = 0


class FakeCapture:
    """cv2.VideoCapture stand-in: reads fail while the world's camera is unplugged."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world
        self.opened = world.plugged
        world.opens += 1

    def isOpened(self):
        return self.opened

    def read(self):
        time.sleep(0.005)
        if not self.world.plugged or not self.opened:
            return False, None
        self.world.counter += 1
        w, h = self.world.size
        return True, np.full((h, w, 3), self.world.counter % 256, np.uint8)

    def release(self):
        self.opened = False

    def get(self, prop):
        return 30.0


def test_mailbox_keeps_only_the_newest():
    box = Mailbox()
    for i in range(5):
        box.put(i)
    seq, item = box.get(after=0, timeout=0)
    assert (seq, item) == (5, 4)
    assert box.get(after=5, timeout=0.01) == (5, None)  # nothing newer: times out
    got = []
    reader = threading.Thread(target=lambda: got.append(box.get(after=5, timeout=5)))
    reader.start()
    box.put("x")
    reader.join()
    assert got == [(6, "x")]
    box.close()
    assert box.get(after=6, timeout=5) == (6, None)  # closed: returns at once


def test_missing_camera_says_which():
    source = CameraSource(7, opener=lambda i: None)
    with pytest.raises(SourceError, match="camera 7"):
        source.start()
    busy = FakeWorld()
    busy.plugged = False  # opens but never delivers a frame: busy
    source = CameraSource(3, opener=lambda i: FakeCapture(busy), first_frame_s=0.1)
    with pytest.raises(SourceError, match="camera 3: not found or busy"):
        source.start()


def test_camera_unplugged_mid_run_is_retried_and_recovers():
    world = FakeWorld()
    source = CameraSource(0, opener=lambda i: FakeCapture(world), retry_s=0.05, fail_after=3, first_frame_s=0.2)
    with source:
        assert source.read(0, timeout=5)[1] is not None
        assert source.state == "running" and source.status is None
        world.plugged = False
        assert wait_until(lambda: source.state == "reconnecting")
        assert "camera 0 disconnected" in source.status
        opens_before = world.opens
        assert wait_until(lambda: world.opens > opens_before + 1)  # it keeps trying in the background
        seq = source.mailbox.seq
        world.plugged = True
        assert wait_until(lambda: source.state == "running")
        assert source.status == "camera 0 reconnected"
        assert source.status_info.kind is StatusKind.OK
        assert source.reconnects == 1
        seq2, frame = source.read(seq, timeout=5)
        assert frame is not None and seq2 > seq  # frames flow again
        assert frame.image.shape == (48, 64, 3)
    assert source.state == "stopped"


def test_list_cameras_probes_quietly_with_a_fake():
    world = FakeWorld((32, 24))
    found = list_cameras(4, opener=lambda i: FakeCapture(world) if i == 2 else None)
    assert [c["index"] for c in found] == [2]
    assert (found[0]["width"], found[0]["height"]) == (32, 24)


def test_demo_scene_is_a_moving_person_with_an_exact_mask():
    scene = DemoScene(320, 180)
    a, mask = scene.render(0.0, with_mask=True)
    b = scene.frame(1.0)
    assert a.shape == (180, 320, 3) and a.dtype == np.uint8
    assert mask.shape == (180, 320) and mask.dtype == np.float32
    area = float((mask > 0.5).mean())
    assert 0.03 < area < 0.5  # a person, not the whole frame
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 1.0  # they move
    assert np.array_equal(scene.frame(0.0), a)  # a pure function of time
    assert scene.from_files  # the bundled photo, not the drawn fallback


def test_demo_source_delivers_frames_and_truth():
    with DemoSource(256, 144, fps=60, with_truth=True) as source:
        seq, frame = source.read(0, timeout=5)
        assert frame.image.shape == (144, 256, 3)
        assert frame.truth is not None and frame.truth.shape == (144, 256)
        seq2, frame2 = source.read(seq, timeout=5)
        assert seq2 > seq and frame2.t >= frame.t


def test_array_source_counts_and_ends():
    frames = [np.full((8, 8, 3), i, np.uint8) for i in range(3)]
    source = ArraySource(frames, fps=200, count=5)
    with source:
        assert wait_until(lambda: source.state == "ended")
    assert source.frames == 5


def _tiny_video(path, count=12, size=(64, 48), fps=24):
    from fastvit_fx.io.record import ClipWriter

    with ClipWriter(path, *size, fps=fps) as writer:
        for i in range(count):
            writer.write(np.full((size[1], size[0], 3), (i * 20) % 256, np.uint8))
    return path


def test_video_reader_and_file_source(tmp_path):
    path = _tiny_video(tmp_path / "tiny.mp4")
    with VideoReader(path) as reader:
        assert reader.size == (64, 48) and float(reader.fps) == 24
        assert sum(1 for _ in reader) == 12
    source = VideoFileSource(path, loop=False, realtime=False)
    with source:
        assert wait_until(lambda: source.state == "ended")
    assert source.frames == 12
    assert "end of video" in source.status


def test_unreadable_video_names_the_file(tmp_path):
    bad = tmp_path / "notavideo.mp4"
    bad.write_bytes(b"this is not a video at all" * 10)
    with pytest.raises(SourceError, match="notavideo.mp4"):
        VideoReader(bad)
    with pytest.raises(SourceError, match="missing.mp4: no such file"):
        open_source(str(tmp_path / "missing.mp4"))


def test_open_source_specs():
    assert isinstance(open_source("demo"), DemoSource)
    assert isinstance(open_source("2"), CameraSource) and open_source("2").index == 2
    assert isinstance(open_source(0), CameraSource)


def test_demo_frames_helper():
    images, truths = demo_frames(3, 160, 90, with_truth=True)
    assert len(images) == 3 and images[0].shape == (90, 160, 3)
    assert truths is not None and truths[0].shape == (90, 160)


def test_camera_whose_read_blocks_then_fails_is_reconnected_quickly():
    """Some drivers block a read until their own timeout on an unplugged camera: one such read counts."""
    world = FakeWorld()

    class BlockingCapture(FakeCapture):
        def read(self):
            if not self.world.plugged:
                time.sleep(0.3)  # stands in for a driver's multi-second timeout
                return False, None
            return super().read()

    source = CameraSource(0, opener=lambda i: BlockingCapture(world), retry_s=0.05, fail_after=1000,
                          stall_s=0.2, first_frame_s=0.2)
    with source:
        assert source.read(0, timeout=5)[1] is not None
        world.plugged = False
        assert wait_until(lambda: source.state == "reconnecting", timeout=10)
        world.plugged = True
        assert wait_until(lambda: source.state == "running", timeout=10)


# -- bad files and passing notices ------------------------------------------------------------------
def _front_moov_video(path, count=150, size=(160, 120)):
    """An ordinary MP4 with its index (moov) at the front, as phones and `-movflags faststart` write."""
    import av

    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for _ in range(count):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8),
                                               format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _cut(path, out, fraction):
    data = path.read_bytes()
    out.write_bytes(data[:int(len(data) * fraction)])
    return out


def test_a_truncated_video_warns_in_one_line_naming_the_file_and_the_frames(tmp_path, caplog):
    full = _front_moov_video(tmp_path / "full.mp4")
    cut = _cut(full, tmp_path / "cut.mp4", 0.32)
    with VideoReader(full) as reader:
        assert sum(1 for _ in reader) == 150 and reader.warning is None
    with caplog.at_level("WARNING", logger="fastvit_fx.io.capture"):
        with VideoReader(cut) as reader:
            read = sum(1 for _ in reader)
    assert 0 < read < 100
    expected = f"{cut}: ends early: read {read} of the 150 frames"
    assert reader.warning.startswith(expected) and "\n" not in reader.warning
    assert [r.getMessage() for r in caplog.records] == [reader.warning]  # said once, on the log (stderr)
    source = VideoFileSource(cut, loop=False, realtime=False)
    with source:
        assert wait_until(lambda: source.state == "ended")
    assert source.status_info.kind is StatusKind.WARNING and source.status.startswith(expected)


def test_unreadable_video_message_has_no_errno_and_names_the_file_once(tmp_path):
    bad = tmp_path / "notavideo.mp4"
    bad.write_bytes(b"this is not a video at all" * 10)
    with pytest.raises(SourceError) as caught:
        VideoReader(bad)
    message = str(caught.value)
    assert message == f"{bad}: not a readable video (invalid data found when processing input)"
    assert "Errno" not in message and message.count("notavideo.mp4") == 1


def test_fallback_status_is_typed_and_expires():
    demo = DemoSource(64, 48)
    info = demo.note_fallback("camera 0: not found or busy")
    assert info.kind is StatusKind.FALLBACK and info.show_s
    assert demo.status == "camera 0: not found or busy - showing the demo instead"
    assert not info.expired(info.since + info.show_s - 0.1)
    assert info.expired(info.since + info.show_s)
    demo.report(StatusKind.FALLBACK, demo.status, show_s=0.05)
    assert wait_until(lambda: demo.status is None, timeout=2)  # the window's notice can go
    assert demo.status_info is not None  # ... while what happened is still there to ask about
    demo.clear_status()
    assert demo.status_info is None
