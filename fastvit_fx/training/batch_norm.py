"""Re-estimating BatchNorm running statistics for weights that were not trained as they stand.

An average of runs (a soup) keeps the average of its parts' running statistics, which are not the
statistics of the averaged network's own activations: averaged networks lose activation variance
(REPAIR, Jordan et al. 2022). The standard repair, as for SWA, resets every BatchNorm and measures
its statistics afresh on training data (torch.optim.swa_utils.update_bn); nothing else changes."""
from __future__ import annotations

from typing import Iterable

import torch
from torch.optim.swa_utils import update_bn


def batch_norms(model: torch.nn.Module) -> list[torch.nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def refresh_batch_norm(model: torch.nn.Module, batches: Iterable, device: torch.device | str = "cpu") -> int:
    """Reset every BatchNorm's running statistics and re-estimate them from `batches` (each a tensor
    or a tuple whose first item is the input) as a cumulative mean over all of them, in fp32 and
    without gradients; the model keeps its train/eval mode. How many BatchNorms were refreshed."""
    norms = batch_norms(model)
    if not norms:
        return 0
    was_training = model.training
    with torch.no_grad():
        update_bn(batches, model, device=torch.device(device))
    model.train(was_training)
    return len(norms)
