"""`hmtocr train outline`: trains OutlineNet on randomised scenes and exports ONNX with its sha256.

Reproducible: scenes come from `numpy.random.default_rng([seed, step])` and torch is seeded, so the same
seed, steps and thread count give the same weights. Faces are rendered once into a pool at the start."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from modelkit.outline.cards import card_pool
from modelkit.outline.net import INPUT_PX, OutlineNet
from modelkit.outline.scenes import make_scene

log = logging.getLogger(__name__)


def batch(seed: int, step: int, faces: list[Any], size: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng([seed, step])
    scenes = [make_scene(rng, faces, size) for _ in range(n)]
    x = np.stack([s.img_rgb for s in scenes]).astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    y = np.stack([s.mask for s in scenes])[:, None]
    return torch.from_numpy(x), torch.from_numpy(y)


class _Batches(torch.utils.data.IterableDataset):  # type: ignore[type-arg]
    """Batches for steps 0..steps-1 in order, drawn in a worker process while the network trains."""

    def __init__(self, seed: int, steps: int, faces: list[Any], size: int, n: int) -> None:
        self.args = (seed, steps, faces, size, n)

    def __iter__(self):  # type: ignore[no-untyped-def]
        seed, steps, faces, size, n = self.args
        torch.set_num_threads(1)
        for step in range(steps):
            yield batch(seed, step, faces, size, n)


def loss_fn(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    target = F.interpolate(mask, size=logits.shape[2:], mode="area")
    bce = F.binary_cross_entropy_with_logits(logits, target)
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum((1, 2, 3))
    dice = 1 - (2 * inter + 1) / (prob.sum((1, 2, 3)) + target.sum((1, 2, 3)) + 1)
    return bce + dice.mean()


def export(model: OutlineNet, path: Path) -> str:
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    batch_axis = {"image": {0: "n"}, "mask_logit": {0: "n"}}
    torch.onnx.export(model, (torch.zeros(1, 3, INPUT_PX, INPUT_PX),), str(path), input_names=["image"],
                      output_names=["mask_logit"], opset_version=17, dynamic_axes=batch_axis, dynamo=False)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train(seed: int, steps: int, batch_size: int, out: Path, threads: int, pool: int) -> int:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    out.parent.mkdir(parents=True, exist_ok=True)
    faces = card_pool(np.random.default_rng([seed, 10**9]), pool, pool)
    log.info("pool of %d faces ready", len(faces))
    model = OutlineNet()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.1)
    started = time.perf_counter()
    running = 0.0
    loader = torch.utils.data.DataLoader(_Batches(seed, steps, faces, INPUT_PX, batch_size), batch_size=None,
                                         num_workers=1, prefetch_factor=4)
    for step, (x, y) in enumerate(loader):
        model.train()
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if step % 25 == 0 or step == steps - 1:
            log.info("step %d/%d loss %.4f (%.0f s)", step, steps, running, time.perf_counter() - started)
        if step and step % 500 == 0:
            torch.save(model.state_dict(), out.with_suffix(".pt"))
    torch.save(model.state_dict(), out.with_suffix(".pt"))
    digest = export(model, out)
    meta = {"seed": seed, "steps": steps, "batch": batch_size, "threads": threads, "pool": pool, "sha256": digest,
            "input_px": INPUT_PX, "torch": torch.__version__}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(meta))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hmtocr train outline")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pool", type=int, default=120, help="permit faces and other card faces each")
    parser.add_argument("--out", type=Path, default=Path("models/weights/card_outline.onnx"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    return train(args.seed, args.steps, args.batch, args.out, args.threads, args.pool)


if __name__ == "__main__":
    raise SystemExit(main())
