"""A PyTorch reference run beside the ``gated`` figure: does a torch LSTM or GRU solve dynrnn's tasks?

Not a figure script (the leading underscore keeps it out of ``dynrnn figures``), and torch is needed
only here.  The ``gated`` figure trains dynrnn's LSTM and GRU with the paper's optimizer (plain SGD,
lr 0.01, norm clipping) for at most 20,000 updates; this script trains ``torch.nn.LSTM`` or
``torch.nn.GRU`` (50 units, PyTorch's default initialization, float64, a ``nn.Linear`` readout of the
last ``h``, cross-entropy at the last step, batch 20, global norm clipped to 1) on the same generator
(``dynrnn.tasks.temporal_order``) with Adam or SGD, and every ``every`` updates scores the error rate
on 1,000 fresh sequences, as the figure's periodic checks do.  It separates "the task or its
generator is unlearnable at this length" from "this optimizer and budget do not get there".

Run (one thread, about 4 minutes per 20,000 updates at L = 50 on the machine of RESULTS.md)::

    python analysis/_gated_torch_reference.py --cell lstm --optimizer adam --lr 1e-3 --length 50 --seed 0

It appends one row per check to ``figures/gated_torch_reference.csv`` (cell, optimizer, lr, length,
seed, update, error).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

import dynrnn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gated import TORCH_REFERENCE_CSV as OUT  # noqa: E402  (the table of the gated figure reads it)

FIELDS = ("cell", "optimizer", "lr", "length", "seed", "update", "error")


def reference_run(cell: str, optimizer: str, lr: float, length: int, seed: int, n_updates: int,
                  every: int = 500, n_units: int = 50, batch_size: int = 20):  # fmt: skip
    """Train a torch ``cell`` on temporal order; yield ``(update, error rate)`` every ``every`` updates."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    probe = dynrnn.tasks.temporal_order(1, length, rng=rng)
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](probe.n_inputs, n_units).double()
    readout = torch.nn.Linear(n_units, probe.n_outputs).double()
    params = [*module.parameters(), *readout.parameters()]
    opt = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[optimizer](params, lr=lr)

    def logits(batch):
        h, _ = module(torch.from_numpy(np.array(batch.inputs)))
        return readout(h[-1])

    for update in range(n_updates + 1):
        if update % every == 0:
            with torch.no_grad():
                check = dynrnn.tasks.temporal_order(1000, length, rng=rng)
                yield update, float((logits(check).argmax(1).numpy() != check.targets).mean())
        if update == n_updates:
            return
        batch = dynrnn.tasks.temporal_order(batch_size, length, rng=rng)
        loss = torch.nn.functional.cross_entropy(logits(batch), torch.from_numpy(np.array(batch.targets)).long())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--updates", type=int, default=20_000)
    args = parser.parse_args(argv)
    new = not OUT.exists()
    with OUT.open("a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(FIELDS)
        start = time.perf_counter()
        for update, error in reference_run(args.cell, args.optimizer, args.lr, args.length, args.seed, args.updates):
            writer.writerow((args.cell, args.optimizer, args.lr, args.length, args.seed, update, error))
            f.flush()
            print(f"{args.cell} {args.optimizer} lr {args.lr} L {args.length} seed {args.seed}: "
                  f"update {update}, error {error:.3f} ({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
