#!/usr/bin/python3
"""Export the small ONNX models of test/fixtures/onnx-asis/ and PyTorch's RBFleX score of each.

    /usr/bin/python3 tools/make-onnx-fixtures.py     # Debian python3-torch + python3-torchvision

One width-reduced model per pattern that rbflex runs as it is (src/onnx-asis): squeeze-excitation
(MobileNetV3 / EfficientNet), channel shuffle (ShuffleNetV2), DenseNet transition, ConvNeXt block
with LayerNorm, a small ViT with GELU and attention, an NB201 cell whose AvgPool exports as
Pad + AveragePool, and the tanh form of GELU. Each is built from torchvision's own blocks where torchvision has them, with
PyTorch's default (seeded) initialisation, and exported the way the README tells users to:

    torch.onnx.export(model.train(), x, f, training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False, input_names=['input'],
                      dynamic_axes={'input': {0: 'N'}}, opset_version=17)

Beside the models: images.f32 (3 float32 NCHW 3x32x32 images, little-endian, standard normal from
a seeded torch.Generator) and expected.json with, per model, PyTorch's RBFleX score on those
images (each image alone, training mode; every activation module's output is a tap; the input of
the last nn.Linear is the classifier input; fixed reference gammas), the parameter count and the
ONNX op types. Only these scripts need Python; the tests read the committed files.
"""
import hashlib
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.convnext import CNBlock, LayerNorm2d
from torchvision.models.densenet import _DenseBlock, _Transition
from torchvision.models.shufflenetv2 import InvertedResidual
from torchvision.models.vision_transformer import VisionTransformer
from torchvision.ops.misc import SqueezeExcitation

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'onnx-asis')
GAMMA_K = 2.68690173088039e-12
GAMMA_Q = 1.02460061284506e-11
N_IMAGES = 3
SIZE = 32
OPSET = 17
MAX_BYTES = 300 * 1024

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.CELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish,
               nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Hardtanh)


# ------------------------------------------------------------------------------------------------
# models (small widths, CIFAR-size input)

class SqueezeExcite(nn.Module):
    """MobileNetV3 (Hardswish, ReLU/Hardsigmoid SE) and EfficientNet (SiLU, SiLU/Sigmoid SE) blocks, Mish head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.mbv3 = nn.Sequential(
            nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            SqueezeExcitation(16, 8, activation=nn.ReLU, scale_activation=nn.Hardsigmoid),
            nn.Conv2d(16, 24, 1, bias=False), nn.BatchNorm2d(24))
        self.effnet = nn.Sequential(
            nn.Conv2d(24, 48, 1, bias=False), nn.BatchNorm2d(48), nn.SiLU(),
            nn.Conv2d(48, 48, 3, 2, 1, groups=48, bias=False), nn.BatchNorm2d(48), nn.SiLU(),
            SqueezeExcitation(48, 6, activation=nn.SiLU, scale_activation=nn.Sigmoid),
            nn.Conv2d(48, 32, 1, bias=False), nn.BatchNorm2d(32))
        self.head = nn.Sequential(nn.Conv2d(32, 64, 1, bias=False), nn.BatchNorm2d(64), nn.Mish(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.effnet(self.mbv3(self.stem(x))))


class ChannelShuffle(nn.Module):
    """ShuffleNetV2: torchvision's InvertedResidual units (split, concat, 5-D reshape + transpose)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(inplace=True))
        self.stage = nn.Sequential(InvertedResidual(24, 48, 2), InvertedResidual(48, 48, 1), InvertedResidual(48, 48, 1))
        self.conv5 = nn.Sequential(nn.Conv2d(48, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.conv5(self.stage(self.stem(x)))
        return self.fc(x.mean([2, 3]))


class DenseTransition(nn.Module):
    """DenseNet: stem with padded max pooling, a dense block, a transition (BN, ReLU, 1x1 conv, AvgPool)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        self.block1 = _DenseBlock(num_layers=3, num_input_features=16, bn_size=2, growth_rate=8, drop_rate=0)
        self.trans1 = _Transition(40, 20)
        self.pad = nn.ZeroPad2d((1, 0, 1, 0))
        self.block2 = _DenseBlock(num_layers=2, num_input_features=20, bn_size=2, growth_rate=8, drop_rate=0)
        self.norm = nn.BatchNorm2d(36)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(36, 10)

    def forward(self, x):
        x = self.block2(self.pad(self.trans1(self.block1(self.stem(x)))))
        x = self.relu(self.norm(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ConvNeXtBlock(nn.Module):
    """ConvNeXt: patchify stem + LayerNorm2d, torchvision CNBlocks (permutes, LayerNorm, GELU, layer scale)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 24, 4, 4), LayerNorm2d(24))
        self.blocks = nn.Sequential(CNBlock(24, 1e-6, 0.0), CNBlock(24, 1e-6, 0.0))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), LayerNorm2d(24), nn.Flatten(1), nn.Linear(24, 10))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


def vit():
    """torchvision's VisionTransformer: 2 encoder blocks (multi-head attention, LayerNorm, GELU MLP)."""
    return VisionTransformer(image_size=SIZE, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                             num_classes=10)


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, k, pad):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, k, 1, pad, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.op(x)


class NB201Cell(nn.Module):
    """An NB201 network with one cell: every op type; one AvgPool as NB201 writes it (count_include_pad=False,
    the pads inside AveragePool), one with PyTorch's default count_include_pad=True (exported as Pad + AveragePool)."""

    def __init__(self, c=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        self.e10 = ReLUConvBN(c, c, 3, 1)
        self.e20 = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        self.e21 = ReLUConvBN(c, c, 1, 0)
        self.e31 = nn.AvgPool2d(3, 1, 1)  # count_include_pad=True (the default): exported as Pad + AveragePool
        self.e32 = ReLUConvBN(c, c, 3, 1)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, 10)

    def forward(self, x):
        n0 = self.stem(x)
        n1 = self.e10(n0)
        n2 = self.e20(n0) + self.e21(n1)
        n3 = n0 + self.e31(n1) + self.e32(n2)
        return self.classifier(self.pool(self.lastact(n3)).flatten(1))


class GeluTanh(nn.Module):
    """GELU(approximate='tanh'), which torch writes out as 0.5*x*(1+Tanh(sqrt(2/pi)*(x+0.044715*x*x*x)))."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.GELU(approximate='tanh'),
                                  nn.Conv2d(8, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.GELU(approximate='tanh'),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))

    def forward(self, x):
        return self.body(x)


MODELS = [
    ('squeeze-excitation', SqueezeExcite),
    ('channel-shuffle', ChannelShuffle),
    ('densenet-transition', DenseTransition),
    ('convnext-block', ConvNeXtBlock),
    ('vit-block', vit),
    ('nb201-cell', NB201Cell),
    ('gelu-tanh', GeluTanh),
]


# ------------------------------------------------------------------------------------------------
# RBFleX in PyTorch (SPEC section 1), written from the definition

def features(model, image):
    """Activation-module outputs (call order) and the last Linear's input, for one image, training mode."""
    taps, cls = [], []
    last_linear = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    hooks = [m.register_forward_hook(lambda _m, _i, o: taps.append(o.detach().double().flatten().clone()))
             for m in model.modules() if isinstance(m, ACTIVATIONS)]
    hooks.append(last_linear.register_forward_pre_hook(lambda _m, i: cls.append(i[0].detach().double().flatten().clone())))
    try:
        with torch.no_grad():
            model(image)
    finally:
        for h in hooks:
            h.remove()
    return torch.cat(taps), cls[-1]


def logdet_rbf(v, gamma):
    lo = v.min(0).values
    hi = v.max(0).values
    rng = hi - lo
    z = torch.where(rng > 0, (v - lo) / torch.where(rng > 0, rng, torch.ones_like(rng)), torch.zeros_like(v))
    n = z.shape[0]
    d = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        for j in range(n):
            d[i, j] = ((z[i] - z[j]) ** 2).sum()
    sign, logabs = torch.linalg.slogdet(torch.exp(-gamma * d))
    return logabs.item() if sign.item() != 0 else -math.inf


def rbflex(model, images):
    model.train()
    xs, ys = zip(*(features(model, images[i:i + 1]) for i in range(images.shape[0])))
    x = torch.stack(xs)
    y = torch.stack(ys)
    n = images.shape[0]
    return n * (logdet_rbf(x, GAMMA_K) + logdet_rbf(y, GAMMA_Q)), x.shape[1], y.shape[1]


# ------------------------------------------------------------------------------------------------

def export(model, path):
    x = torch.zeros(1, 3, SIZE, SIZE)
    torch.onnx.export(model.train(), x, path, training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'N'}},
                      opset_version=OPSET)


def op_types(path):
    try:
        import onnx
    except ImportError:
        return None
    m = onnx.load(path)
    out = {}
    for n in m.graph.node:
        out[n.op_type] = out.get(n.op_type, 0) + 1
    return dict(sorted(out.items()))


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(20260101)
    images = torch.randn(N_IMAGES, 3, SIZE, SIZE, generator=g, dtype=torch.float32)
    with open(os.path.join(OUT, 'images.f32'), 'wb') as f:
        f.write(images.numpy().astype('<f4').tobytes())
    expected = {'images': {'file': 'images.f32', 'shape': [N_IMAGES, 3, SIZE, SIZE]},
                'gammas': {'gammaK': GAMMA_K, 'gammaQ': GAMMA_Q}, 'taps': 'activations',
                'torch': torch.__version__, 'opset': OPSET, 'models': {}}
    for k, (name, make) in enumerate(MODELS):
        torch.manual_seed(1000 + k)
        model = make()
        path = os.path.join(OUT, f'{name}.onnx')
        export(model, path)
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            sys.exit(f'{name}: {size} bytes, over the {MAX_BYTES} limit')
        score, lk, lq = rbflex(model, images)
        params = sum(p.numel() for p in model.parameters())
        with open(path, 'rb') as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        expected['models'][name] = {'file': f'{name}.onnx', 'rbflex': score, 'L_K': lk, 'L_Q': lq, 'params': params,
                                    'bytes': size, 'sha256': sha, 'ops': op_types(path)}
        print(f'{name:22s} {size:7d} bytes  params {params:6d}  L_K {lk:7d}  L_Q {lq:4d}  rbflex {score:.6f}')
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
