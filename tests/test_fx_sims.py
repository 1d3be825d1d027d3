"""Simulations: snow stays out of the person, piles up and falls again; counts stay bounded;
balls bounce off; the wave equation stays stable."""
from __future__ import annotations

import numpy as np

from fastvit_fx.fx.fields import FieldHistory, Fields
from fastvit_fx.fx.sim import Balls, Snow, Waves

H, W = 240, 320


def disc(cx: float, cy: float, r: float) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    return np.clip(r - np.hypot(x - cx, y - cy) + 0.5, 0.0, 1.0).astype(np.float32)


def run(sim, masks, dt: float = 1 / 30, check=None):
    history = FieldHistory()
    frame = np.zeros((H, W, 3), np.uint8)
    for i, mask in enumerate(masks):
        f = Fields(frame, mask, history, dt)
        sim.step(f, dt, i * dt)
        history.update(f)
        if check:
            check(sim, i)


def test_snow_never_inside_a_moving_silhouette():
    snow = Snow(count=1500, fall_speed=160, seed=3)
    worst = []

    def check(sim, i):
        cx = 60 + 4.0 * i if i < 50 else 260 - 5.0 * (i - 50)  # across and back, 4-5 px per frame
        d = np.hypot(sim.x - cx, sim.y - 150) - 70  # analytic distance to the disc's edge
        worst.append(d.min())

    masks = [disc(60 + 4.0 * i if i < 50 else 260 - 5.0 * (i - 50), 150, 70) for i in range(90)]
    run(snow, masks, check=check)
    assert min(worst) > -2.0  # the grid is 4 px; flakes may touch the edge, never sink in


def test_snow_piles_on_top_and_falls_when_the_support_goes():
    snow = Snow(count=2000, fall_speed=200, seed=4)
    box = np.zeros((H, W), np.float32)
    box[150:, 80:240] = 1.0  # a flat "shoulder" at y = 150
    run(snow, [box] * 150)
    settled = snow.settled
    assert settled.sum() > 50
    assert settled.sum() <= int(snow.max_settled * snow.count)
    ys, xs = snow.y[settled], snow.x[settled]
    assert (ys < 150 + 2).all() and (ys > 150 - snow.pile_depth - 8).all()  # on top (to the grid's accuracy)
    assert ((xs > 70) & (xs < 250)).all()
    # the person steps away: the snow falls again
    run(snow, [np.zeros((H, W), np.float32)] * 40)
    assert snow.settled.sum() == 0


def test_snow_is_not_ploughed_along_a_walking_person():
    """A person walking through falling snow must not push a line of flakes along their leading side."""
    snow = Snow(count=3000, fall_speed=95, seed=6)
    cx = [260 - 3.0 * i for i in range(60)]  # walking left at 90 px/s
    run(snow, [disc(x, 150, 60) for x in cx])
    d = np.hypot(snow.x - cx[-1], snow.y - 150) - 60
    leading = (d > 0) & (d < 8) & (snow.x < cx[-1] - 20)
    in_frame = (snow.x >= 0) & (snow.x < W) & (snow.y >= 0) & (snow.y < H)
    band_area = np.pi * 64 * 8 * 0.8  # about the leading half of an 8 px ring round the disc
    expected = in_frame.sum() / (H * W) * band_area
    assert leading.sum() < 4 * expected, f"{leading.sum()} flakes along the leading side, ~{expected:.0f} expected"


def test_snow_counts_stay_bounded():
    snow = Snow(count=800, seed=5)
    masks = [disc(160, 200, 60)] * 200 + [np.ones((H, W), np.float32)] * 10 + [np.zeros((H, W), np.float32)] * 10

    def check(sim, i):
        assert sim.x.shape == sim.y.shape == sim.settled.shape == (800,)
        assert np.isfinite(sim.x).all() and np.isfinite(sim.y).all()
        assert (sim.y < H + 50).all() and (sim.y > -0.2 * H - 20).all()
        assert sim.settled.sum() <= int(sim.max_settled * sim.count)

    run(snow, masks, check=check)


def test_balls_bounce_off_and_stay_in_the_frame():
    balls = Balls(count=6, radius=12, seed=2)
    masks = [disc(160, 170, 60 + 10 * np.sin(i / 5)) for i in range(150)]

    def check(sim, i):
        assert np.isfinite(sim.x).all() and np.isfinite(sim.vy).all()
        assert (sim.x >= sim.r - 1e-3).all() and (sim.x <= W - sim.r + 1e-3).all()
        assert (sim.y <= H - sim.r + 1e-3).all()
        if i > 5:
            depth = 60 + 10 * np.sin(i / 5) - np.hypot(sim.x - 160, sim.y - 170)  # > 0: center inside
            assert (depth < sim.r * 0.6).all()  # overlap stays well under a radius

    run(balls, masks, check=check)
    assert len(balls.x) == 6


def test_a_swat_kicks_a_ball():
    balls = Balls(count=1, radius=14, gravity=0.0, seed=0, relaunch=0)
    run(balls, [np.zeros((H, W), np.float32)])  # initialise
    balls.x[:], balls.y[:], balls.vx[:], balls.vy[:] = 200.0, 120.0, 0.0, 0.0
    # a wall sweeps in from the left at 8 px per frame
    masks = []
    for i in range(12):
        m = np.zeros((H, W), np.float32)
        m[:, : 120 + 8 * i] = 1.0
        masks.append(m)
    run(balls, masks)
    assert balls.vx[0] > 100  # thrown to the right, faster than the wall itself (240 px/s)


def test_waves_are_stable_and_quiet_without_input():
    calm = Waves(drops=0.0)
    run(calm, [np.zeros((H, W), np.float32)] * 30)
    assert np.abs(calm.h).max() == 0.0
    stirred = Waves(drops=20.0, seed=1)
    masks = [disc(100 + 3 * i, 120, 40) for i in range(200)]
    peaks = []
    run(stirred, masks, check=lambda sim, i: peaks.append(np.abs(sim.h).max()))
    assert max(peaks) > 0.01
    assert np.isfinite(stirred.h).all() and max(peaks) < 20.0
