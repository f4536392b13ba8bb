#!/usr/bin/python3
"""PyTorch anchor for bench/bench_train: the same training step (two MLP
heads 2280->H->D and 1100->H->D with ReLU and dropout, L2 normalization,
symmetric InfoNCE with a learnable clamped logit scale, AdamW with decoupled
weight decay on the weights, gradient clipping) on the same shapes, timed per
epoch of synthetic pairs gathered from a pool.

  /usr/bin/python3 bench/train_torch_anchor.py [--pairs N] [--threads T ...]
Needs Debian's python3-torch (scripts/install-deps.sh bench)."""
import argparse, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--pairs", type=int, default=100000)
ap.add_argument("--pool", type=int, default=8192)
ap.add_argument("--batch", type=int, default=128)
ap.add_argument("--hidden", type=int, default=1024)
ap.add_argument("--dim", type=int, default=128)
ap.add_argument("--dropout", type=float, default=0.3)
ap.add_argument("--threads", type=int, nargs="*", default=[1, 2])
a = ap.parse_args()

def head(n_in):
    return nn.Sequential(nn.Linear(n_in, a.hidden), nn.ReLU(), nn.Dropout(a.dropout), nn.Linear(a.hidden, a.dim))

g = torch.Generator().manual_seed(1)
pool_i = torch.rand(a.pool, 2280, generator=g)
pool_t = torch.rand(a.pool, 1100, generator=g)
steps = a.pairs // a.batch
print(f"torch {torch.__version__}: {a.pairs} pairs ({steps} steps of {a.batch}), image 2280->{a.hidden}->{a.dim}, "
      f"text 1100->{a.hidden}->{a.dim}, dropout {a.dropout}")
print("threads     s/epoch    ms/step      loss0   loss_end")
for t in a.threads:
    torch.set_num_threads(t)
    torch.manual_seed(1)
    hi, ht = head(2280), head(1100)
    log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    decay = [p for m in (hi, ht) for n, p in m.named_parameters() if n.endswith("weight")]
    nodecay = [p for m in (hi, ht) for n, p in m.named_parameters() if n.endswith("bias")] + [log_scale]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": nodecay, "weight_decay": 0.0}], lr=1e-3)
    params = decay + nodecay
    order = torch.randint(0, a.pool, (steps * a.batch,), generator=g)
    labels = torch.arange(a.batch)
    first = last = None
    t0 = time.perf_counter()
    for s in range(steps):
        idx = order[s * a.batch:(s + 1) * a.batch]
        u = F.normalize(hi(pool_i[idx]), dim=1)
        v = F.normalize(ht(pool_t[idx]), dim=1)
        z = log_scale.clamp(max=math.log(100)).exp() * u @ v.t()
        loss = (F.cross_entropy(z, labels) + F.cross_entropy(z.t(), labels)) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            log_scale.clamp_(max=math.log(100))
        if first is None: first = loss.item()
    last = loss.item()
    dt = time.perf_counter() - t0
    print(f"{t:<8d} {dt:10.2f} {1000 * dt / steps:10.2f} {first:10.3f} {last:10.3f}")
