"""Live video at two scales for one pass a frame: the whole frame and the crop on alternate frames,
each frame's crop a blend of the fresh look and the other kind's latest one where the frame was still."""
from __future__ import annotations

import numpy as np
import pytest
from test_zoom import CropPaintsEverything

from fastvit_fx import Segmenter
from fastvit_fx.model import ModelConfig
from fastvit_fx.segment.alternate import AlternateLooks
from fastvit_fx.segment.refine import motion_image


def frame_with_person(x: int = 300) -> np.ndarray:
    frame = np.full((480, 640, 3), 40, np.uint8)
    frame[200:260, x:x + 30] = 250  # an eighth of the frame's height: the tracker zooms on it
    return frame


def test_turns_alternate_after_a_crop_look():
    looks = AlternateLooks()
    seen = motion_image(frame_with_person())
    assert not looks.whole_turn()  # nothing looked at yet
    looks.remember_both(np.zeros((480, 640), np.float32), np.ones((4, 4), np.float32), (0, 0, 4, 4), seen)
    assert not looks.whole_turn()  # both fresh: the crop's turn
    looks.remember_crop(np.ones((4, 4), np.float32), (0, 0, 4, 4), seen)
    assert looks.whole_turn()
    looks.remember_whole(np.zeros((480, 640), np.float32), seen)
    assert not looks.whole_turn()
    looks.reset()
    assert not looks.whole_turn()


def test_the_older_look_counts_by_its_weight_where_still_and_not_at_all_where_the_frame_moved():
    looks = AlternateLooks()
    still = frame_with_person()
    looks.remember_whole(np.zeros((480, 640), np.float32), motion_image(still))
    region = (200, 150, 440, 330)
    closer = np.ones((180, 240), np.float32)
    blended = looks.crop_with_older_whole(closer, region, motion_image(still), (480, 640), crop_weight=0.7)
    np.testing.assert_allclose(blended, 0.7, atol=1e-5)  # nothing moved: 0.7 of the crop's, 0.3 of the whole's
    moved = still.copy()
    moved[150:330, 200:320] = 200  # the left half of the crop changed since the whole look
    blended = looks.crop_with_older_whole(closer, region, motion_image(moved), (480, 640), crop_weight=0.7)
    assert blended[90, 40] == pytest.approx(1.0)  # moved: the fresh look alone
    assert blended[90, 200] == pytest.approx(0.7, abs=1e-5)  # still: blended
    with pytest.raises(ValueError, match="crop_weight"):
        looks.crop_with_older_whole(closer, region, motion_image(still), (480, 640), crop_weight=1.5)


def test_an_older_crop_counts_only_over_the_pixels_it_covered():
    looks = AlternateLooks()
    seen = motion_image(frame_with_person())
    looks.remember_crop(np.ones((100, 100), np.float32), (100, 100, 200, 200), seen)
    piece = np.zeros((100, 100), np.float32)  # the whole look over a crop that moved right by 50 px
    blended = looks.whole_with_older_crop(piece, (150, 100, 250, 200), seen, (480, 640), crop_weight=0.7)
    assert blended[50, 25] == pytest.approx(0.7)  # covered by the older crop: blended
    assert blended[50, 75] == 0.0  # not covered: the whole look's own
    assert looks.whole_with_older_crop(piece, (300, 300, 400, 400), seen, (480, 640), 0.7).max() == 0.0


def test_video_alternates_whole_and_crop_at_one_pass_a_frame_and_every_frame_blends():
    seg = Segmenter(CropPaintsEverything(), ModelConfig(), size=256, refine=False, smooth=True)
    seg.alternate = AlternateLooks()
    seg.still_zoom_blend = 0.3
    frame = frame_with_person()
    shapes = []
    for i in range(6):
        n = len(seg.backend.inputs)
        mask = seg(frame)
        shapes.append([x.shape[2:] for x in seg.backend.inputs[n:]])
        x0, y0, x1, y1 = seg.last_region
        beside = (y0 + y1) // 2, x0 + (x1 - x0) // 10 + 2  # inside the crop, off the person
        # the crop's look says person everywhere, the whole look only on the person: each frame shows
        # 0.3 of the crop's look (the smoother cannot hide a pulse: the frame never moves and the
        # blended value is the same on every frame)
        assert mask[beside] == pytest.approx(0.3, abs=0.05), i
        assert mask[230, 315] > 0.9  # the person: both looks agree
    whole = (192, 256)
    assert shapes[0][0] == whole and len(shapes[0]) == 2  # first frame: the whole frame, then the crop
    assert [len(s) for s in shapes[1:]] == [1] * 5  # then one pass a frame
    assert [s[0] == whole for s in shapes[1:]] == [False, True, False, True, False]  # crop, whole, crop, ...
