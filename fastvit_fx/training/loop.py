"""The training loop behind scripts/train.py: AdamW, warm-up + cosine, bf16 on CPUs that have it / AMP on CUDA,
checkpoints with resume, a time budget, CSV log and PNG curves. Runs under torchrun unchanged."""
from __future__ import annotations

import copy
import csv
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, WeightedRandomSampler

from ..export.shapes import STRIDE
from ..model import ModelConfig, build_model, save_weights
from .augment import parse_framing_names, parse_framings, parse_scene_scales
from .batch_norm import batch_norms
from .data import (TAUGHT_WHERE_LABELLED, TEACH_SOURCES, AugmentedPeople, load_backgrounds, parse_loss_weights,
                   parse_shares, parse_sources, read_manifest, source_sample_weights)
from .echo import echo_views
from .losses import distillation_loss, segmentation_loss
from .turn import draw_quarter_turns, turn


@dataclass
class TrainConfig:
    data: str
    out: str = "runs/t8"
    backgrounds: str | None = None
    arch: str = "fastvit_t8"
    head_width: int = 64
    coarse_width: int = 0  # >0: a wider head at strides 16/32; --init weights narrower there are grown (model/widen.py)
    refine_width: int = 0  # >0: add an EdgeRefiner (stride-2 output); --init weights without one get a fresh one
    # blocks per backbone stage, '2,2,6,2'; --init weights with fewer blocks are deepened (model/deepen.py)
    depths: str | None = None
    size: int = 224  # training crop
    eval_size: int = 256  # the app's input size, used for validation
    batch: int = 16
    epochs: int = 40
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_steps: int = 200
    time_budget_min: float | None = None
    workers: int = 1
    seed: int = 0
    limit: int | None = None  # use only the first N train items (tests, smoke runs)
    val_limit: int | None = None
    export: str | None = None  # also write the best weights here (fp16)
    init: str | None = None  # start from these weights when there is no checkpoint to resume (a new machine)
    lovasz: float = 0.0  # weight of the Lovasz hinge term (a per-image IoU surrogate; for fine-tuning)
    ema: float = 0.0  # >0: validate and ship an exponential moving average of the weights (timm ModelEmaV3)
    # validate every N epochs (and always after the last one): on a GPU an epoch takes seconds and the
    # CPU-side validation through the Segmenter would take most of the run
    val_every: int = 1
    # 1: also keep each validated epoch's shipped weights as epochNN.safetensors, so a rule written
    # before the run can judge every point along it, not only the loop's choice and the last
    keep_validated: int = 0
    # >0: every this many minutes of training, also write the shipped weights (fp16) as stepNNNNNN.safetensors
    # into snapshot_dir (the run's folder by default): on a lent GPU, where the run does not validate,
    # the points along the run come back for a rule to judge here
    snapshot_minutes: float = 0.0
    snapshot_dir: str | None = None
    # a closing phase on frames closer to the val photos: 'native=0.3,whole=0.4,...' (augment.FRAMINGS
    # by default) and the share of samples given camera faults
    framings: str | None = None
    faults: float = 1.0
    # each source's share of an epoch's samples: 'sbi2015-indoor=0.3,...' over data.SOURCE_SHARES;
    # 'off' draws every pair once an epoch (sources in proportion to their size)
    source_shares: str | None = None
    # a frozen teacher (weights file) whose masks the student also matches, with weight `distill`, on
    # the samples of `teach_sources` (data.TEACH_SOURCES by default): what the teacher does well is
    # kept while the other sources are learned
    teacher: str | None = None
    distill: float = 1.0
    teach_sources: str | None = None
    # >0: the taught samples are enlarged so their longer side is this many px for the teacher's pass
    # (its answer is resized back in the loss): the teacher sees people larger than the student does,
    # and the student learns the masks of a larger input at its own
    teacher_size: int = 0
    # share of samples turned by a random quarter turn (turn.py), image, label and the teacher's
    # answer together: people lying down or upside down are people too
    turn: float = 0.0
    # 1: every BatchNorm keeps the running statistics it starts with (from --init) and normalises by
    # them in training too; its scale and shift still learn. Batches drawn from new sources (and turned
    # samples) otherwise move the statistics that every source is normalised by, which no teacher guards
    frozen_bn: int = 0
    # steps trained on each rendered batch (training/echo.py): >1 where the loader, not the
    # accelerator, sets the pace; the echoes are mirrored, zoomed and lit afresh on the device
    echo: int = 1
    # 1: the backbone's weights and BatchNorm statistics do not train (only the head does); a branch
    # that cannot move the features every source shares
    freeze_backbone: int = 0
    # 1: the head's weights and BatchNorm statistics do not train (only the backbone does): the
    # complement of freeze_backbone, for asking which half a skill wears away in
    freeze_head: int = 0
    # each source's segmentation loss multiplied: 'camvid-street=3' (sources not named: 1). Unlike a
    # larger share it adds no samples, so the other sources are seen as often as before
    source_loss_weights: str | None = None
    # scene frames at other scales than a whole frame: 'out=0.25,negative=0.15', the share of scene
    # samples shrunk inside the sample or cropped close where no person is (augment.parse_scene_scales)
    scene_scales: str | None = None
    # the scene sources drawn at those scales, 'sbi2015-indoor' (None: every scene source): a room's
    # shrunk frames halved its false person pixels in camera-sized frames, a street's cost pedestrians
    scene_scale_sources: str | None = None
    # the background's weight in a shrunk frame of a source, its people's staying 1: 'camvid-street=0.3'.
    # Shrunk whole, a street's pedestrians are a few pixels among many background ones: at full weight a
    # branch found fewer pedestrians, at 0.3 twice as many and the whole street band painted as person
    # (model card: Shrunk street frames, their background weighted down)
    shrunk_background_weights: str | None = None
    # the Lovasz term keeps the pixels whose valid weight is over this (losses.lovasz_hinge): 0.5 leaves
    # out a shrunk background weighted 0.3, 0.2 keeps it there while BCE and Dice still weigh it 0.3, to
    # tell which term holds a street's background back (model card: Shrunk street frames, the
    # background kept in the Lovasz term)
    lovasz_keeps_above: float = 0.5
    # the share of hard-negative shapes coloured saturated red or pink instead of dark, and the share of
    # samples whose hues are turned (augment.saturate, augment.turn_hue): red seats, graffiti, cloth and
    # flowers were painted as person (model card: Pasted poses and groups back, from (Id))
    colourful_clutter: float = 0.0
    hue_turn: float = 0.0
    # the share of hard-negative shapes drawn as bushes, flowering shrubs, tree trunks and bins
    # (outdoor_clutter.py): the foot of a tree, flowers and bins were painted as person in streets and
    # parks, which the dark furniture shapes never showed (model card: What would help next 19)
    outdoor_clutter: float = 0.0
    # the share of samples relit as a person lit from the camera in a dark room, lamps and fairy lights
    # behind (flash_at_night.py): a flash selfie's black top under a chandelier is the portrait the
    # photos' branch's soups traded away, and night is a blind-set failure (model card: What would
    # help next 19). They learn from their labels alone, as the labelled framings do
    flash_at_night: float = 0.0
    # framings whose samples learn from their labels alone, neither taught nor weighted down by their
    # source: 'small,group' (augment.FRAMINGS keys). The teacher judges a composed frame whole and
    # misses the small people pasted in it, which branches taught so unlearned epoch by epoch
    # (model card: Pasted people taught by their labels alone)
    label_framings: str | None = None


# the log's column for each source's val mIoU
VAL_COLUMNS = {"shen2016-portraits": "portrait", "clothing-co-parsing": "fullbody", "cdnet-pedestrians": "scene",
               "sbi2015-indoor": "indoor", "davis2016-poses": "poses", "camvid-street": "street"}


def training_record(cfg: TrainConfig, epochs: int, steps: int, score: float | None = None,
                    sources: dict | None = None) -> dict:
    """What a weights file's header records about the training that made it."""
    return {"data": str(cfg.data), "epochs": epochs, "steps": steps, "train_size": cfg.size,
            "val_miou": None if score is None else round(score, 4),
            "val": {name: round(r["miou"], 4) for name, r in (sources or {}).items()}}


def freeze_batch_norm(model: torch.nn.Module) -> int:
    """Put every BatchNorm in eval mode (running statistics used and left alone); how many there are."""
    norms = batch_norms(model)
    for m in norms:
        m.eval()
    return len(norms)


def parse_depths(text: str | None) -> tuple[int, ...] | None:
    """'2,2,6,2' -> (2, 2, 6, 2); None or '' -> None (the arch's own depths)."""
    if not text:
        return None
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"depths must be four comma-separated block counts, got {text!r}") from None


def selection_score(sources: dict) -> float:
    """The number an epoch is chosen by: the mean of the per-source mIoUs, so the 82 street frames
    weigh as much as the 157 portraits (a per-image mean let the largest sources decide). The 8-image
    pedestrian source is left out: one image moves it by a tenth."""
    scores = [r["miou"] for name, r in sources.items() if name != "cdnet-pedestrians"]
    return float(np.mean(scores)) if scores else float("nan")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bf16 (AVX-512 BF16 or AMX). Elsewhere PyTorch emulates bf16, and
    autocast makes training slower, not faster: on an AVX2-only EPYC a step took 5.5x its fp32 time
    (measured), where on an AVX-512 BF16 one bf16 roughly doubled the speed."""
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(probe() for probe in probes if probe is not None)


def autocast_dtype(device_type: str) -> torch.dtype | None:
    """The mixed-precision type to train in on this device, or None for plain fp32."""
    if device_type == "cuda":
        return torch.float16  # with a GradScaler
    if device_type == "cpu":
        return torch.bfloat16 if cpu_has_native_bf16() else None
    return torch.bfloat16


def _dist_info() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return world, rank, local


def lr_factor(step: int, total_steps: int, warmup: int, elapsed_s: float, budget_s: float | None) -> float:
    """Linear warm-up, then cosine to zero over whichever runs out first: steps or time."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    if budget_s:
        progress = max(progress, elapsed_s / budget_s)
    progress = min(1.0, progress)
    return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress))


def _one_thread_per_worker(_worker_id: int) -> None:
    # each loader worker is one process: torch's own thread pool in every one of them would
    # oversubscribe the cores the workers are meant to share. (OpenCV is limited in the parent before
    # the fork: cv2.setNumThreads here, in a forked child, hangs destroying the parent's pool.)
    torch.set_num_threads(1)


def validate(model, items, eval_size: int) -> dict:
    """Fuse a copy and score it through the Segmenter, exactly as the app runs it."""
    from ..backends.torch_backend import TorchBackend
    from ..segment import Segmenter
    from .evaluate import evaluate

    fused = copy.deepcopy(model).cpu().float().eval()
    fused.config = ModelConfig(**{**fused.config.__dict__, "input_size": eval_size})
    seg = Segmenter(TorchBackend(fused, device="cpu"), fused.config, size=eval_size)
    return evaluate(seg, items)


def load_teacher(cfg: TrainConfig, model_cfg: ModelConfig, sources: set[str], device) -> tuple[torch.nn.Module, tuple]:
    """The frozen, fused teacher and the sources it is matched on; a one-line ValueError names a
    teacher file that cannot be read, one that normalises its input differently, or an unknown source."""
    from ..model import load_model

    teach_sources = parse_sources(cfg.teach_sources, sources) if cfg.teach_sources else \
        tuple(s for s in TEACH_SOURCES if s in sources)
    if not teach_sources:
        raise ValueError(f"--teacher {cfg.teacher}: none of the train sources is one to teach on")
    teacher = load_model(cfg.teacher, fuse=True).to(device).eval()  # WeightsError names the file
    for p in teacher.parameters():
        p.requires_grad_(False)
    if teacher.config.mean != model_cfg.mean or teacher.config.std != model_cfg.std:
        raise ValueError(f"--teacher {cfg.teacher}: normalises its input differently from the student")
    if cfg.teacher_size and cfg.teacher_size < STRIDE:
        raise ValueError(f"--teacher-size {cfg.teacher_size}: must be 0 (the student's size) or at least "
                         f"{STRIDE} px")
    return teacher, teach_sources


def teacher_input(x: torch.Tensor, side: int) -> torch.Tensor:
    """The batch the teacher sees: `x` itself where `side` is 0 or already its longer side, else
    resized (bilinear) so the longer side is `side`, each side rounded up to the network's stride."""
    h, w = x.shape[-2:]
    if not side or side == max(h, w):
        return x
    scale = side / max(h, w)
    size = tuple(max(STRIDE, math.ceil(round(v * scale, 6) / STRIDE) * STRIDE) for v in (h, w))
    return torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False)


def teacher_matched_where(valid: torch.Tensor, teach: torch.Tensor) -> torch.Tensor | None:
    """Where the student matches the teacher (B,1,H,W), or None for everywhere: a sample taught only
    where labelled (teach TAUGHT_WHERE_LABELLED) is matched where its label counts, any other taught
    sample everywhere."""
    only_labelled = (teach >= TAUGHT_WHERE_LABELLED).reshape(-1, 1, 1, 1)
    if not bool(only_labelled.any()):
        return None
    return torch.where(only_labelled, (valid > 0.5).to(valid.dtype), torch.ones_like(valid))


def plot_curves(log_path: Path, out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(open(log_path)))
    if not rows:
        return
    ep = [int(r["epoch"]) for r in rows]
    fig, ax1 = plt.subplots(figsize=(7, 4))
    ax1.plot(ep, [float(r["train_loss"]) for r in rows], "C0-", label="train loss")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("train loss", color="C0")
    ax2 = ax1.twinx()
    for key, style in (("val_miou", "k-"), ("val_portrait", "C2--"), ("val_fullbody", "C3--"),
                       ("val_indoor", "C4--"), ("val_poses", "C5--"), ("val_street", "C6--")):
        points = [(e, float(r[key])) for e, r in zip(ep, rows) if r.get(key)]  # validated epochs only
        if points:
            ax2.plot(*zip(*points), style, label=key)
    ax2.set_ylabel("val mIoU")
    fig.legend(loc="lower center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


def train(cfg: TrainConfig, log=print) -> dict:
    if cfg.echo < 1:
        raise ValueError(f"echo must be 1 (each batch once) or more, got {cfg.echo}")
    if not 0.0 <= cfg.lovasz_keeps_above < 1.0:
        raise ValueError(f"lovasz-keeps-above must be in [0, 1) (1 would leave out every pixel), "
                         f"got {cfg.lovasz_keeps_above}")
    world, rank, local = _dist_info()
    if world > 1:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
    is_main = rank == 0
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)

    model_cfg = ModelConfig(arch=cfg.arch, head_width=cfg.head_width, coarse_width=cfg.coarse_width,
                            refine_width=cfg.refine_width, input_size=cfg.eval_size,
                            depths=parse_depths(cfg.depths))
    model = build_model(model_cfg).to(device)
    if cfg.freeze_backbone and cfg.freeze_head:
        raise ValueError("freeze-backbone and freeze-head together leave nothing to train")
    if cfg.freeze_backbone:
        model.backbone.requires_grad_(False)
    if cfg.freeze_head:
        model.head.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                            weight_decay=cfg.weight_decay)
    step, start_epoch, best = 0, 0, -1.0
    spent_s = 0.0  # training time before this resume: the time budget and the schedule's clock go on from it
    ckpt_path = out / "last.pt"
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        step, start_epoch, best = ckpt["step"], ckpt["epoch"], ckpt["best"]
        spent_s = float(ckpt.get("elapsed_s", 0.0))
        log(f"resumed from {ckpt_path} at epoch {start_epoch}, step {step}, best {best:.4f}, "
            f"{spent_s / 60:.1f} min spent")
    elif cfg.init:
        from ..model import load_weights

        init_cfg, tensors = load_weights(cfg.init)
        if (init_cfg.arch, init_cfg.head_width) != (cfg.arch, cfg.head_width):
            raise ValueError(f"{cfg.init}: is {init_cfg.arch}/{init_cfg.head_width}, not {cfg.arch}/{cfg.head_width}")
        tensors = {k: v.float() for k, v in tensors.items()}
        grown: list[str] = []
        if init_cfg.coarse_width != cfg.coarse_width:
            from ..model.widen import widen_state

            try:
                tensors, grown = widen_state(tensors, model.state_dict())
            except ValueError as exc:
                raise ValueError(f"{cfg.init}: coarse width {init_cfg.coarse_width} does not grow into "
                                 f"{cfg.coarse_width}: {exc}") from None
        added: list[str] = []
        if init_cfg.depths != model_cfg.depths:
            from ..model.deepen import deepen_state

            try:
                tensors, added = deepen_state(tensors, model.state_dict())
            except ValueError as exc:
                keep = f"; --depths {','.join(map(str, init_cfg.depths))} keeps the file's" if init_cfg.depths else ""
                raise ValueError(f"{cfg.init}: does not fit the model's blocks per stage: {exc}{keep}") from None
        missing, unexpected = model.load_state_dict(tensors, strict=False)
        fresh = [k for k in missing if k.startswith("refiner.")]
        if unexpected or len(fresh) != len(missing):
            raise ValueError(f"{cfg.init}: does not match the model: missing {sorted(set(missing) - set(fresh))[:3]}, "
                             f"unexpected {sorted(unexpected)[:3]}")
        log(f"initialised from {cfg.init} (optimizer and schedule start fresh"
            + (f"; {len(fresh)} refiner tensors start fresh" if fresh else "")
            + (f"; {len(grown)} head tensors widened to coarse width {cfg.coarse_width}" if grown else "")
            + (f"; {len(added)} tensors of new blocks, depths {model_cfg.depths}" if added else "") + ")")
    # the sample size is easy to leave at its default by accident: say it, with the rest
    head = f"{cfg.head_width}" + (f" (coarse {cfg.coarse_width})" if cfg.coarse_width else "") \
        + (f", depths {model_cfg.depths}" if model_cfg.depths else "")
    amp_dtype = autocast_dtype(device.type)
    precision = {torch.float16: "fp16 AMP", torch.bfloat16: "bf16 autocast", None: "fp32"}[amp_dtype]
    log(f"{cfg.arch}/{head} on {device} ({precision}): {cfg.size} px samples (val at {cfg.eval_size} px), "
        f"batch {cfg.batch}, lr {cfg.lr:g}, framings {cfg.framings or 'default'}, faults {cfg.faults:g}")
    ema = None
    if cfg.ema:
        from timm.utils import ModelEmaV3

        ema = ModelEmaV3(model, decay=cfg.ema)
        if ckpt_path.exists() and "ema" in ckpt:
            ema.module.load_state_dict(ckpt["ema"])
    ddp_model = model
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local] if device.type == "cuda" else None)

    items = read_manifest(cfg.data, "train")[: cfg.limit]
    val_items = read_manifest(cfg.data, "val")[: cfg.val_limit]
    teacher, teach_sources = None, ()
    if cfg.teacher:
        teacher, teach_sources = load_teacher(cfg, model_cfg, {it.source for it in items}, device)
        at = f" at {cfg.teacher_size} px" if cfg.teacher_size else ""
        log(f"teacher {cfg.teacher}{at} (distill {cfg.distill:g}) on {', '.join(teach_sources)}")
    if cfg.turn:
        log(f"{cfg.turn:.0%} of samples turned by a random quarter turn")
    if cfg.frozen_bn:
        log(f"{freeze_batch_norm(model)} BatchNorm layers keep their running statistics")
    if cfg.freeze_backbone:
        log(f"the backbone is frozen: {sum(p.numel() for p in model.parameters() if p.requires_grad):,} "
            "head parameters train")
    if cfg.freeze_head:
        log(f"the head is frozen: {sum(p.numel() for p in model.parameters() if p.requires_grad):,} "
            "backbone parameters train")
    loss_weights = parse_loss_weights(cfg.source_loss_weights, {it.source for it in items})
    if loss_weights:
        log("segmentation loss weighted: " + ", ".join(f"{k} x{v:g}" for k, v in loss_weights.items()))
    scene_scales = parse_scene_scales(cfg.scene_scales)
    if any(scene_scales.values()):
        log("scene samples at other scales: " + ", ".join(f"{k} {v:.0%}" for k, v in scene_scales.items()))
    scene_scale_sources = parse_sources(cfg.scene_scale_sources, {it.source for it in items}) or None
    if scene_scale_sources and any(scene_scales.values()):
        log("only these scene sources drawn at other scales: " + ", ".join(scene_scale_sources))
    shrunk_background = parse_loss_weights(cfg.shrunk_background_weights, {it.source for it in items})
    if shrunk_background:
        log("background of shrunk scene frames weighted: " + ", ".join(f"{k} x{v:g}" for k, v in shrunk_background.items()))
    if cfg.colourful_clutter or cfg.hue_turn:
        log(f"hard negatives coloured red or pink: {cfg.colourful_clutter:.0%} of them; hues turned: "
            f"{cfg.hue_turn:.0%} of samples")
    if cfg.outdoor_clutter:
        log(f"hard negatives drawn as bushes, flowers, trunks and bins: {cfg.outdoor_clutter:.0%} of them")
    if cfg.flash_at_night:
        log(f"lit from the camera in a dark room: {cfg.flash_at_night:.0%} of samples")
    label_framings = parse_framing_names(cfg.label_framings)
    if label_framings:
        log("taught by their labels alone: the " + ", ".join(label_framings) + " framings")
    dataset = AugmentedPeople(items, load_backgrounds(cfg.backgrounds), cfg.size,
                              model_cfg.mean, model_cfg.std, seed=cfg.seed,
                              framings=parse_framings(cfg.framings), faults_p=cfg.faults,
                              teach_sources=teach_sources, loss_weights=loss_weights,
                              scene_scales=scene_scales, scene_scale_sources=scene_scale_sources,
                              shrunk_background=shrunk_background,
                              colourful_clutter=cfg.colourful_clutter, hue_turn=cfg.hue_turn,
                              outdoor_clutter=cfg.outdoor_clutter,
                              label_framings=label_framings, flash_at_night=cfg.flash_at_night)
    if world > 1:
        sampler = DistributedSampler(dataset, shuffle=True)
    elif cfg.source_shares == "off":
        sampler = None
    else:  # balanced sources: a fixed seed per epoch keeps a resumed run's draws reproducible
        weights = source_sample_weights(items, parse_shares(cfg.source_shares))
        sampler = WeightedRandomSampler(weights, num_samples=len(items), replacement=True,
                                        generator=torch.Generator().manual_seed(cfg.seed))
    cv2_threads = cv2.getNumThreads()
    if cfg.workers > 0:
        # one OpenCV thread in the forked workers (they share the cores); it must be set before the
        # fork: reconfiguring the inherited pool inside a worker deadlocks.
        # Workers fork every epoch, so it holds until the end of the run, then is restored.
        cv2.setNumThreads(1)
    loader = DataLoader(dataset, batch_size=cfg.batch, shuffle=sampler is None, sampler=sampler,
                        num_workers=cfg.workers, drop_last=len(dataset) >= cfg.batch,
                        persistent_workers=False, pin_memory=device.type == "cuda",
                        worker_init_fn=_one_thread_per_worker if cfg.workers > 0 else None)
    if cfg.echo > 1:
        log(f"each rendered batch trains {cfg.echo} steps (echoes mirrored, zoomed and lit afresh)")
    steps_per_epoch = max(1, len(loader)) * cfg.echo
    total_steps = steps_per_epoch * cfg.epochs
    budget_s = cfg.time_budget_min * 60 if cfg.time_budget_min else None
    use_cuda = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_cuda)

    log_path = out / "log.csv"
    fields = ["epoch", "step", "train_loss", "lr", "val_miou", "val_all"] + [f"val_{n}" for n in VAL_COLUMNS.values()] \
        + ["val_boundary_f", "minutes"]
    if is_main and not log_path.exists():
        with open(log_path, "w", newline="") as f:
            csv.DictWriter(f, fields).writeheader()

    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        tqdm = None
    turn_rng = torch.Generator().manual_seed(cfg.seed * 7919 + start_epoch)  # which samples are turned
    echo_rng = torch.Generator().manual_seed(cfg.seed * 104729 + start_epoch)

    def device_batches(batches):
        """Each loader batch on the device, then its echoes (cfg.echo - 1 fresh views of it)."""
        for x, y, valid, teach, weight in batches:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            valid, teach = valid.to(device, non_blocking=True), teach.to(device, non_blocking=True)
            weight = weight.to(device, non_blocking=True) if loss_weights else None
            yield x, y, valid, teach, weight
            for _ in range(cfg.echo - 1):
                yield (*echo_views(x, y, valid, echo_rng), teach, weight)

    t_start = time.time() - spent_s
    stopped_by_budget = False
    next_snapshot_s = cfg.snapshot_minutes * 60
    last_val: dict = {}
    for epoch in range(start_epoch, cfg.epochs):
        dataset.epoch = epoch
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        elif sampler is not None:
            sampler.generator.manual_seed(cfg.seed * 1000 + epoch)
        ddp_model.train()
        if cfg.frozen_bn:
            freeze_batch_norm(model)
        elif cfg.freeze_backbone:
            freeze_batch_norm(model.backbone)
        elif cfg.freeze_head:
            freeze_batch_norm(model.head)
        losses = []
        it = loader
        if tqdm is not None and is_main:
            it = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False, mininterval=10)
        for x, y, valid, teach, weight in device_batches(it):
            f = lr_factor(step, total_steps, cfg.warmup_steps, time.time() - t_start, budget_s)
            for g in opt.param_groups:
                g["lr"] = cfg.lr * f
            taught = chosen = None
            if teacher is not None and bool(teach.any()):
                chosen = teach > 0.5
                with torch.no_grad(), torch.autocast(device.type, dtype=amp_dtype or torch.bfloat16,
                                                     enabled=amp_dtype is not None):
                    # only the samples it is matched on, still upright
                    taught = teacher(teacher_input(x[chosen], cfg.teacher_size))
            if cfg.turn:
                quarters = draw_quarter_turns(x.shape[0], cfg.turn, turn_rng)
                x, y, valid = turn(x, quarters), turn(y, quarters), turn(valid, quarters)
                if taught is not None:
                    taught = turn(taught, quarters[chosen.cpu()])
            with torch.autocast(device.type, dtype=amp_dtype or torch.bfloat16, enabled=amp_dtype is not None):
                logits = ddp_model(x)
            loss = segmentation_loss(logits, y, lovasz=cfg.lovasz, valid=valid, sample_weight=weight,
                                     lovasz_keeps_above=cfg.lovasz_keeps_above)
            if taught is not None:
                loss = loss + cfg.distill * distillation_loss(
                    logits[chosen], taught, torch.ones_like(teach[chosen]),
                    where=teacher_matched_where(valid[chosen], teach[chosen]))
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            scaler.step(opt)
            scaler.update()
            if ema is not None:
                ema.update(model, step=step)
            losses.append(loss.detach().item())
            step += 1
            if budget_s and time.time() - t_start > budget_s:
                stopped_by_budget = True
                break
        row = {"epoch": epoch + 1, "step": step, "train_loss": f"{np.mean(losses):.5f}",
               "lr": f"{cfg.lr * f:.6f}", "minutes": f"{(time.time() - t_start) / 60:.1f}"}
        if is_main:
            shipped = ema.module if ema is not None else model
            last_epoch = stopped_by_budget or epoch + 1 == cfg.epochs
            if val_items and ((epoch + 1) % max(1, cfg.val_every) == 0 or last_epoch):
                last_val = validate(shipped, val_items, cfg.eval_size)
                src = last_val["sources"]
                score = selection_score(src)
                row.update(val_miou=f"{score:.4f}", val_all=f"{last_val['miou']:.4f}",
                           val_boundary_f=f"{last_val['boundary_f']:.4f}")
                for name, column in VAL_COLUMNS.items():
                    if name in src:
                        row[f"val_{column}"] = f"{src[name]['miou']:.4f}"
                if cfg.keep_validated:
                    shipped.config = model.config
                    shipped.config.training = training_record(cfg, epoch + 1, step, score, src)
                    save_weights(shipped, out / f"epoch{epoch + 1:02d}.safetensors")
            elif val_items:
                score = -math.inf  # not validated this epoch: never chosen as best
            else:  # no val set (a lent GPU: val runs later, here, on the full-size photos). The latest
                # weights ship: the schedule ends at its lowest rate, and the train loss on augmented
                # samples is too noisy to choose an epoch by (it once picked epoch 14 of 20)
                score = float(epoch + 1)
            with open(log_path, "a", newline="") as fh:
                csv.DictWriter(fh, fields).writerow(row)
            log(" ".join(f"{k}={v}" for k, v in row.items()))
            if score > best:
                best = score
                shipped.config = model.config
                # without a val set the score is the epoch number: not a metric to record
                shipped.config.training = training_record(cfg, epoch + 1, step, score if val_items else None,
                                                          last_val.get("sources"))
                save_weights(shipped, out / "best.safetensors")
                if cfg.export:
                    save_weights(shipped, cfg.export, half=True)
            # the last epoch's weights too (the EMA where there is one): rules that judge the last epoch
            # rather than pick one on val take this file
            shipped.config = model.config
            shipped.config.training = training_record(cfg, epoch + 1, step)
            save_weights(shipped, out / "last.safetensors")
            elapsed_s = time.time() - t_start
            if cfg.snapshot_minutes > 0 and elapsed_s >= next_snapshot_s:  # the same weights and header, fp16
                period_s = cfg.snapshot_minutes * 60
                next_snapshot_s = (math.floor(elapsed_s / period_s) + 1) * period_s  # the next mark after now
                snapshots = Path(cfg.snapshot_dir) if cfg.snapshot_dir else out
                snapshots.mkdir(parents=True, exist_ok=True)
                save_weights(shipped, snapshots / f"step{step:06d}.safetensors", half=True)
            state = {"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "epoch": epoch + 1,
                     "best": best, "elapsed_s": elapsed_s, "config": json.loads(model.config.to_json())}
            if ema is not None:
                state["ema"] = ema.module.state_dict()
            torch.save(state, out / "last.pt.tmp")
            os.replace(out / "last.pt.tmp", ckpt_path)
            try:
                plot_curves(log_path, out / "curves.png")
            except Exception as exc:  # a plotting failure must never lose a training run
                log(f"plot failed: {exc}")
        if stopped_by_budget:
            log(f"time budget of {cfg.time_budget_min} min reached after epoch {epoch + 1}; checkpoint saved")
            break
    if world > 1:
        dist.destroy_process_group()
    cv2.setNumThreads(cv2_threads)
    return {"step": step, "best": best, "val": last_val, "stopped_by_budget": stopped_by_budget}
