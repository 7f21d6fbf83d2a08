#!/usr/bin/python3
"""Export full-size, untrained torchvision models for rbflex, and PyTorch's RBFleX score of each.

    /usr/bin/python3 tools/export-torchvision.py OUT_DIR resnet50 mobilenet_v3_small ... [--size 224] [--no-score]

Offline: weights=None (PyTorch's default initialisation, seeded). Exported as the README says
(training mode, Dropout and StochasticDepth p=0, dynamic batch, opset 17). Unless --no-score, OUT_DIR also gets
images.f32 (3 standard-normal 3xSIZExSIZE float32 images from a seeded torch.Generator) and
expected.json with PyTorch's RBFleX score per model (same definition as tools/make-onnx-fixtures.py:
activation modules are the taps, the last nn.Linear's input is the classifier input, reference gammas).
bench/onnx-asis.ts and the checks in the note file use these; nothing here is committed.
"""
import argparse
import importlib.util
import json
import os
import time

import torch
import torchvision

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('fixtures', os.path.join(here, 'make-onnx-fixtures.py'))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)


def build(name):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    for m in model.modules():
        if isinstance(m, (torch.nn.Dropout, torchvision.ops.StochasticDepth)):
            m.p = 0.0  # no dropout, no stochastic depth (training-mode export cannot write Bernoulli)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('models', nargs='+')
    ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--no-score', action='store_true')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    images = torch.randn(3, 3, a.size, a.size, generator=torch.Generator().manual_seed(20260101))
    exp_path = os.path.join(a.out, 'expected.json')
    expected = json.load(open(exp_path)) if os.path.exists(exp_path) else {'models': {}}
    expected.update({'images': {'file': 'images.f32', 'shape': list(images.shape)},
                     'gammas': {'gammaK': fx.GAMMA_K, 'gammaQ': fx.GAMMA_Q}, 'taps': 'activations'})
    if not a.no_score:
        with open(os.path.join(a.out, 'images.f32'), 'wb') as f:
            f.write(images.numpy().astype('<f4').tobytes())
    for name in a.models:
        model = build(name)
        path = os.path.join(a.out, f'{name}.onnx')
        t0 = time.time()
        torch.onnx.export(model.train(), torch.zeros(1, 3, a.size, a.size), path, opset_version=17,
                          training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                          input_names=['input'], dynamic_axes={'input': {0: 'N'}})
        entry = {'file': f'{name}.onnx', 'bytes': os.path.getsize(path),
                 'params': sum(p.numel() for p in model.parameters()), 'export_s': round(time.time() - t0, 1)}
        if not a.no_score:
            t0 = time.time()
            score, lk, lq = fx.rbflex(model, images)
            entry.update({'rbflex': score, 'L_K': lk, 'L_Q': lq, 'torch_score_s': round(time.time() - t0, 1)})
        expected['models'][name] = entry
        print(name, json.dumps(entry), flush=True)
        with open(exp_path, 'w') as f:
            json.dump(expected, f, indent=1)


if __name__ == '__main__':
    main()
