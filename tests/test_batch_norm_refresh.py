"""Re-estimated BatchNorm statistics: the refresh measures the network's own activations, touches
nothing else, and the script refreshes weights files on training samples with clear errors."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from fastvit_fx.model import load_weights
from fastvit_fx.training.batch_norm import refresh_batch_norm

from test_training import make_dataset

_spec = importlib.util.spec_from_file_location(
    "refresh_batch_norm", Path(__file__).resolve().parents[1] / "scripts" / "refresh_batch_norm.py")
refresh_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(refresh_script)


def test_refreshed_statistics_are_those_of_the_activations_and_nothing_else_moves():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    net = torch.nn.Sequential(conv, torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 1),
                              torch.nn.BatchNorm2d(2)).eval()
    net[1].running_mean.fill_(5.0)  # stale statistics, as an average of runs keeps them
    net[1].running_var.fill_(9.0)
    weights_before = {k: v.clone() for k, v in net.state_dict().items() if "running" not in k and "num_batches" not in k}
    batches = [(torch.randn(4, 3, 8, 8) * 2 + 1, torch.zeros(1)) for _ in range(3)]

    assert refresh_batch_norm(net, batches) == 2

    with torch.no_grad():
        act = torch.cat([conv(x) for x, _ in batches])
    # equal batch sizes: the cumulative mean of the batch means is the mean over all of them
    assert torch.allclose(net[1].running_mean, act.mean(dim=(0, 2, 3)), atol=1e-5)
    batch_vars = torch.stack([conv(x).detach().transpose(0, 1).flatten(1).var(dim=1) for x, _ in batches])
    assert torch.allclose(net[1].running_var, batch_vars.mean(0), atol=1e-4)
    assert not net.training  # the mode it came in
    for k, v in net.state_dict().items():
        if k in weights_before:
            assert torch.equal(v, weights_before[k]), k


def test_script_refreshes_files_on_training_samples_and_keeps_the_rest(tmp_path, weights_file, capsys):
    data = make_dataset(tmp_path / "data", n_train=8, n_val=2)
    out_dir = tmp_path / "refreshed"
    assert refresh_script.main([str(weights_file), "--data", str(data), "--out-dir", str(out_dir),
                                "--samples", "8", "--batch", "4", "--size", "64", "--workers", "0"]) == 0
    assert "BatchNorms refreshed on 8 samples" in capsys.readouterr().out
    _, before = load_weights(weights_file)
    cfg_out, after = load_weights(out_dir / weights_file.name)
    assert cfg_out.training["batch_norm_refreshed"] == {"samples": 8, "from": weights_file.name}
    stats = [k for k in before if k.endswith("running_mean")]
    assert stats and any(not torch.allclose(before[k].half().float(), after[k].float(), atol=1e-3) for k in stats)
    others = [k for k in before if "running" not in k and "num_batches" not in k and before[k].is_floating_point()]
    for k in others:
        assert torch.equal(before[k].half(), after[k].half()), k


def test_script_names_a_folder_without_training_pairs_and_refuses_to_overwrite(tmp_path, weights_file, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert refresh_script.main([str(weights_file), "--data", str(empty), "--out-dir", str(tmp_path / "o"),
                                "--workers", "0"]) == 2
    assert str(empty) in capsys.readouterr().err
    data = make_dataset(tmp_path / "data", n_train=4, n_val=1)
    assert refresh_script.main([str(weights_file), "--data", str(data), "--out-dir", str(weights_file.parent),
                                "--samples", "4", "--batch", "4", "--size", "64", "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "would overwrite" in err and err.count("\n") == 1
