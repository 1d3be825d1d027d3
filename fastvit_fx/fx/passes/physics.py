"""Physics overlays: snow, bouncing balls, ripples. Each pass owns one simulation (fx/sim/),
steps it once per frame from the shared fields, then draws it."""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..ops import bgr01
from ..params import Bool, Color, Colors, Int, Num
from ..sim import Balls, Snow, Waves
from . import Context, Pass, register


class SimPass(Pass):
    sim = None

    def reset(self) -> None:
        self.sim.reset()


@register
class SnowPass(SimPass):
    name = "snow"
    help = "falling snow that collides with you, slides off and piles on shoulders and head"
    additive = True
    params = {
        "count": Int(2500, 0, 20000, "flakes"),
        "fall_speed": Num(95.0, 5.0, 1000.0, "pixels per second at 720p"),
        "wind": Num(15.0, -500.0, 500.0, "steady sideways drift, px/s"),
        "gust": Num(25.0, 0.0, 500.0, "slowly varying extra wind, px/s"),
        "sway": Num(18.0, 0.0, 200.0, "each flake's own side-to-side flutter, px/s"),
        "size": Num(1.0, 0.2, 5.0, "flake size multiplier"),
        "pile": Bool(True, "flakes settle on up-facing surfaces and pile up"),
        "pile_depth": Num(30.0, 0.0, 300.0, "thickest pile above the person, pixels at 720p"),
        "max_settled": Num(0.45, 0.0, 1.0, "share of flakes that may rest in piles"),
        "melt": Num(30.0, 1.0, 600.0, "seconds a settled flake lasts (on average)"),
        "friction": Num(0.25, 0.0, 1.0, "how much a slope slows sliding flakes"),
        "stick_angle": Num(55.0, 0.0, 90.0, "steepest slope (degrees) that holds snow"),
        "opacity": Num(1.0, 0.0, 1.0),
    }

    def setup(self) -> None:
        p = dict(self.p)
        self.opacity = p.pop("opacity")
        self.sim = Snow(**p)

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        self.sim.step(ctx.fields, ctx.dt, ctx.t)
        pile = self.sim.pile_light(ctx.fields)
        if pile is not None:
            ctx.add_light(pile * np.float32(self.opacity))
        return self.sim.draw(img, self.opacity)


@register
class BouncePass(SimPass):
    name = "bounce"
    help = "balls under gravity that bounce off you; fast moves swat them"
    params = {
        "count": Int(10, 0, 200, "balls"),
        "radius": Num(34.0, 2.0, 300.0, "pixels at 720p"),
        "radius_jitter": Num(0.35, 0.0, 0.9, "size variation"),
        "gravity": Num(1700.0, 0.0, 20000.0, "px/s^2 at 720p"),
        "restitution": Num(0.78, 0.0, 1.0, "bounciness"),
        "friction": Num(0.08, 0.0, 1.0),
        "kick": Num(1.2, 0.0, 5.0, "how much your motion throws a ball"),
        "colors": Colors(("#ff4b5c", "#ffb400", "#2ec4b6", "#3d7bff", "#c04dff"), 1, "ball colours"),
        "relaunch": Num(5.0, 0.0, 120.0, "seconds a ball rests on the floor before dropping in again (0 = never)"),
    }

    def setup(self) -> None:
        p = dict(self.p)
        p["colors"] = [bgr01(c) for c in p["colors"]]
        self.sim = Balls(**p)

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        self.sim.step(ctx.fields, ctx.dt, ctx.t)
        return self.sim.draw(ctx.writable(img))


@register
class RipplesPass(SimPass):
    name = "ripples"
    help = "a water surface over the background: your motion makes waves that refract and catch the light"
    params = {
        "speed": Num(0.45, 0.05, 0.5, "wave speed (stability-limited)"),
        "damping": Num(0.982, 0.8, 1.0, "per sub-step; lower calms the water sooner"),
        "motion": Num(1.0, 0.0, 10.0, "how strongly your movement stirs the water"),
        "drops": Num(1.5, 0.0, 50.0, "random drops per second"),
        "drop_size": Num(14.0, 1.0, 100.0, "pixels"),
        "refraction": Num(14.0, 0.0, 200.0, "how far the slope bends the view, pixels"),
        "light": Num(0.8, 0.0, 4.0, "specular highlight strength"),
        "light_angle": Num(-120.0, -360.0, 360.0, "degrees; -90 = from above"),
        "tint": Color("#2a6f8f", "water colour (added light)"),
        "tint_amount": Num(0.0, 0.0, 1.0, "0 = clear water (and a cheaper render)"),
    }

    def setup(self) -> None:
        p = self.p
        self.sim = Waves(p["speed"], p["damping"], p["motion"], p["drops"], p["drop_size"])
        self.tint = bgr01(p["tint"]) * p["tint_amount"]
        a = math.radians(p["light_angle"])
        # a low light: calm water reflects none of it to the camera, only slopes facing it glint
        lx, ly, lz = 0.75 * math.cos(a), 0.75 * math.sin(a), 0.3
        hz = lz + 1.0
        hn = 1.0 / math.sqrt(lx * lx + ly * ly + hz * hz)
        self.half = (lx * hn, ly * hn, hz * hn)  # Blinn half vector for a viewer straight above
        self._base: np.ndarray | None = None

    def _grid_coords(self, f) -> np.ndarray:
        """Full-res pixel coordinates of the grid cell centres (2-channel float32, grid-sized).
        Bilinear upsampling reproduces a linear ramp exactly, so adding the displacement here and
        upsampling the sum gives the full-res remap table without a full-res add."""
        if self._base is None or self._base.shape[:2] != (f.gh, f.gw):
            xs = (np.arange(f.gw, dtype=np.float32) + 0.5) * np.float32(f.sx) - 0.5
            ys = (np.arange(f.gh, dtype=np.float32) + 0.5) * np.float32(f.sy) - 0.5
            gx, gy = np.meshgrid(xs, ys)
            self._base = cv2.merge([gx, gy])
        return self._base

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        p, f = self.p, ctx.fields
        self.sim.step(f, ctx.dt, ctx.t)
        gx, gy = self.sim.slope()
        # water only behind the person: it fades out a little outside their edge, far enough that
        # refracted lookups do not reach into them and smear them outward (a blurred mask is
        # enough here, and cheaper than the distance field)
        near = cv2.GaussianBlur(f.small, (0, 0), 2.5)
        water = np.clip(1.0 - near * np.float32(3.0), 0.0, 1.0)
        water *= water
        k = water * np.float32(p["refraction"])
        table = cv2.merge([gx * k, gy * k])
        table += self._grid_coords(f)
        maps = cv2.resize(table, (f.w, f.h), interpolation=cv2.INTER_LINEAR)
        fixed, frac = cv2.convertMaps(maps, None, cv2.CV_16SC2)  # fixed-point remap: ~30% faster
        out = cv2.remap(img, fixed, frac, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        # light: Blinn-Phong on the surface normal (-s*gx, -s*gy, 1), plus the water's colour
        s = np.float32(4.0)
        hx, hy, hz = self.half
        sx, sy = gx * s, gy * s
        ndoth = (np.float32(hz) - sx * np.float32(hx) - sy * np.float32(hy)) / np.sqrt(sx * sx + sy * sy + 1.0)
        np.clip(ndoth, 0.0, 1.0, out=ndoth)
        n8 = ndoth * ndoth
        n8 *= n8
        n8 *= n8
        spec = n8 * n8 * n8  # ndoth^48: a tight glint
        spec *= water * np.float32(p["light"])
        if p["tint_amount"] > 0:
            ctx.add_light(cv2.merge([spec + water * float(c) for c in self.tint]))
            return out
        # white glints only: one channel to upsample instead of three
        glint = f.upsample(cv2.convertScaleAbs(spec, alpha=255.0))
        return cv2.add(out, cv2.merge([glint, glint, glint]))
