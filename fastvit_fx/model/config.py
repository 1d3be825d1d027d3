"""ModelConfig: everything needed to rebuild a segmentation network from its weights file."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

ARCHS = ("fastvit_t8", "fastvit_t12", "fastvit_sa12")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ModelConfig:
    arch: str = "fastvit_t8"
    head_width: int = 64
    coarse_width: int = 0  # >0: the head's stride-16/32 levels run this wide (fpn_head.py); 0 = head_width
    refine_width: int = 0  # >0: an EdgeRefiner of this width lifts the output from stride 4 to stride 2
    # blocks per backbone stage, e.g. (2, 2, 6, 2): T12's depth at T8's width; None = the arch's own
    depths: tuple[int, int, int, int] | None = None
    num_classes: int = 1  # 1 = person (sigmoid); more classes would use softmax
    input_size: int = 256  # longest side of the network input at inference
    mean: tuple[float, float, float] = IMAGENET_MEAN  # RGB, 0..1 scale
    std: tuple[float, float, float] = IMAGENET_STD
    labels: tuple[str, ...] = ("person",)
    training: dict = field(default_factory=dict)  # free-form summary: data, epochs, val numbers

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"unknown arch {self.arch!r}; choose one of {', '.join(ARCHS)}")
        if self.head_width < 8:
            raise ValueError(f"head_width must be at least 8, got {self.head_width}")
        if self.coarse_width and self.coarse_width < self.head_width:
            raise ValueError(f"coarse_width must be 0 or at least head_width ({self.head_width}), "
                             f"got {self.coarse_width}")
        if self.refine_width < 0:
            raise ValueError(f"refine_width must be 0 (no refiner) or more, got {self.refine_width}")
        if self.depths is not None:
            depths = tuple(int(d) for d in self.depths)
            if len(depths) != 4 or min(depths) < 1:
                raise ValueError(f"depths must be four block counts of at least 1, got {self.depths!r}")
            self.depths = depths
        self.mean = tuple(float(v) for v in self.mean)
        self.std = tuple(float(v) for v in self.std)
        self.labels = tuple(self.labels)

    @property
    def output_stride(self) -> int:
        """Stride of the network's low-resolution output: 2 with an EdgeRefiner, else 4."""
        return 2 if self.refine_width else 4

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("config is not a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        return cls(**data)
