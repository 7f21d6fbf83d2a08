#!/usr/bin/python3
"""ZiCo of a small network, computed the way its authors' code does, for test/zico.test.ts.

    /usr/bin/python3 tools/make-zico-fixture.py     # Debian python3-torch + python3-onnx

The scoring follows SLDGroup/ZiCo ZeroShotProxy/compute_zico.py (getgrad, caculate_zico, getzico)
and AZ-NAS's NB201 copy of it (NB201/ZeroShotProxy/compute_zico_score.py, batch_iter = 2):
network.train(), for each of 2 batches: zero_grad, logits, nn.CrossEntropyLoss()(logits, label),
backward, keep every nn.Conv2d / nn.Linear weight.grad flattened; then per layer numpy std (ddof 0)
and mean |g| over the batches, log(sum(mean/std over std != 0)) summed over layers. The rule is
restated here (not imported) so the fixture needs no checkout of their repository.

The network: conv-BN-ReLU, a strided conv-BN-ReLU, a 1x1 conv branch added back, global average
pool, Linear (PyTorch's default init, torch.manual_seed(0)), exported to ONNX as the README tells
users to (training mode). Writes test/fixtures/modern/zico-net.onnx and zico.json: the two
batches (4 images of 3x8x8 each, N(0,1) from a seeded generator) with labels, the score, and each
layer's term (keyed by the order of the layers in the module).
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'modern')


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.b = nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU())
        self.c = nn.Conv2d(6, 6, 1, bias=False)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        y = self.b(self.a(x))
        y = y + self.c(y)
        return self.fc(torch.flatten(self.pool(y), 1))


def zico(grads):
    """grads: layer name -> list of flattened numpy gradients (one per batch)."""
    score = 0.0
    terms = []
    for name, gs in grads.items():
        a = np.array(gs)
        std = np.std(a, axis=0)
        nz = np.nonzero(std)[0]
        mean_abs = np.mean(np.abs(a), axis=0)
        s = np.sum(mean_abs[nz] / std[nz])
        term = float(np.log(s)) if s != 0 else 0.0
        terms.append(term)
        score += term
    return float(score), terms


def main():
    torch.manual_seed(0)
    net = Net()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(8, 3, 8, 8, generator=gen)
    labels = torch.tensor([0, 3, 1, 4, 2, 2, 0, 1])
    os.makedirs(OUT, exist_ok=True)
    torch.onnx.export(net.train(), x[:4], os.path.join(OUT, 'zico-net.onnx'), training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False, input_names=['input'], dynamic_axes={'input': {0: 'N'}}, opset_version=17)
    net.train()
    loss_fn = nn.CrossEntropyLoss()
    grads = {}
    for i in range(2):
        net.zero_grad()
        loss = loss_fn(net(x[4 * i:4 * i + 4]), labels[4 * i:4 * i + 4])
        loss.backward()
        for name, mod in net.named_modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                grads.setdefault(name, []).append(mod.weight.grad.data.reshape(-1).numpy().copy())
    score, terms = zico(grads)
    assert math.isfinite(score)
    with open(os.path.join(OUT, 'zico.json'), 'w') as fh:
        json.dump({
            'torch': torch.__version__,
            'images': {'n': 8, 'c': 3, 'h': 8, 'w': 8, 'data': [float(v) for v in x.flatten().tolist()]},
            'labels': labels.tolist(),
            'batch': 4,
            'layers': list(grads.keys()),
            'terms': terms,
            'zico': score,
        }, fh)
    print('zico', score, terms)


if __name__ == '__main__':
    main()
