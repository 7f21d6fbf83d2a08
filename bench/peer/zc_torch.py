#!/usr/bin/env python3
"""PyTorch peer for bench/zc.ts: the NASLib / zero-cost-nas gradient proxies on NB201 networks.

Written from the definitions in docs/PROXIES.md with the TinyNetwork of rbflex_torch.py (xautodl
C=16, N=5): synflow (BatchNorm removed, |w|, float64, one all-ones image, sum of logits), snip,
grad_norm, fisher, grasp (cross-entropy on one batch, BatchNorm in training mode) and jacov (input
Jacobian of the batch). Times, per proxy, the per-network work (build the network with torch default
init, then the proxy), one proxy at a time as NASLib's predictor runs them.

  zc_torch.py --archs FILE --images FILE --shape N,C,H,W --proxy snip [--threads T] [--warmup K]
Prints one JSON object: {"proxy":..,"ms":[per-network wall ms],"cpu_ms":[per-network process CPU ms],"values":[..]}.
"""
import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rbflex_torch import TinyNetwork, parse_arch, read_archs, read_images  # noqa: E402


class Net(nn.Module):
    """TinyNetwork returning logits only."""

    def __init__(self, genotype):
        super().__init__()
        self.inner = TinyNetwork(genotype)

    def forward(self, x):
        return self.inner(x)[1]


def prunable(net):
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def synflow(net, x, y):
    net = copy.deepcopy(net).double()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.forward = lambda t: t
    with torch.no_grad():
        for p in net.state_dict().values():
            p.abs_()
    out = net(torch.ones((1,) + tuple(x.shape[1:]), dtype=torch.float64))
    torch.sum(out).backward()
    s = sum(torch.sum(torch.abs(m.weight * m.weight.grad)).item() for m in prunable(net) if m.weight.grad is not None)
    return float(np.log(s)) if s > 0 else 0.0


def ce_grads(net, x, y):
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()


def snip(net, x, y):
    ce_grads(net, x, y)
    return sum(torch.sum(torch.abs(m.weight.grad * m.weight)).item() for m in prunable(net))


def grad_norm(net, x, y):
    ce_grads(net, x, y)
    return sum(m.weight.grad.norm().item() for m in prunable(net))


def fisher(net, x, y):
    acts = {}

    def hook(m, inp, out):
        out.retain_grad()
        acts[m] = out

    hs = [m.register_forward_hook(hook) for m in prunable(net)]
    ce_grads(net, x, y)
    for h in hs:
        h.remove()
    s = 0.0
    for m, a in acts.items():
        g = a.grad
        gnk = torch.sum(a * g, dim=tuple(range(2, a.dim()))) if a.dim() > 2 else a * g
        fan = m.weight[0].numel()
        s += torch.sum(torch.abs(0.5 * gnk.pow(2).mean(0))).item() * fan
    return s


def grasp(net, x, y):
    ws = [m.weight for m in prunable(net)]
    g = torch.autograd.grad(F.cross_entropy(net(x), y), ws)
    gf = torch.autograd.grad(F.cross_entropy(net(x), y), ws, create_graph=True)
    z = sum((a.detach() * b).sum() for a, b in zip(g, gf))
    net.zero_grad()
    z.backward()
    return sum(torch.sum(-m.weight.detach() * m.weight.grad).item() for m in prunable(net))


def jacov(net, x, y):
    x = x.clone().requires_grad_(True)
    out = net(x)
    out.backward(torch.ones_like(out))
    j = x.grad.reshape(x.shape[0], -1).numpy()
    try:
        v, _ = np.linalg.eig(np.corrcoef(j))
        k = 1e-5
        return float(-np.sum(np.log(v + k) + 1.0 / (v + k)).real)
    except Exception:
        return float("nan")


PROXIES = {"synflow": synflow, "snip": snip, "grad_norm": grad_norm, "fisher": fisher, "grasp": grasp, "jacov": jacov}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--shape", required=True)
    ap.add_argument("--proxy", required=True, choices=sorted(PROXIES))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x = read_images(a.images, [int(v) for v in a.shape.split(",")])
    y = torch.arange(x.shape[0]) % 10
    archs = read_archs(a.archs)
    fn = PROXIES[a.proxy]
    for arch in archs[: a.warmup]:
        fn(Net(parse_arch(arch)).train(), x, y)
    ms, cpu, values = [], [], []
    for arch in archs:
        t0, c0 = time.perf_counter(), time.process_time()
        net = Net(parse_arch(arch)).train()
        values.append(fn(net, x, y))
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    # a proxy value that is not finite (jacov on a degenerate network) goes out as null: strict JSON
    values = [v if math.isfinite(v) else None for v in values]
    print(json.dumps({"proxy": a.proxy, "ms": ms, "cpu_ms": cpu, "values": values, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
