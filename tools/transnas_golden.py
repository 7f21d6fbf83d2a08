#!/usr/bin/python3
"""TransNAS-Bench-101 golden values: rbflex's networks against the authors' own PyTorch modules.

    npm run build
    /usr/bin/python3 tools/transnas_golden.py --upstream <checkout of tomomasayamasaki/RBFleX-NAS>

Writes test/fixtures/transnas-golden.json, which test/transnas-backends.test.ts checks rbflex's
float64 reference backend against (the test never runs Python).

How:
  1. `node dist/bench/transnas-golden-export.js` writes, per case, rbflex's seeded weights
     (initWeights(g, `golden/<arch>`)) keyed by PyTorch state-dict name (rbflex's IR node names are
     the authors' module paths) and the case's images.
  2. This script builds the authors' network from their checkout (not copied here): BackboneTrans +
     HeadEmptyMid, with the head settings of config_macs_transmicroclassscene.yaml, joined the way
     their CNNWrapper joins them (attributes `backbone` then `head`, so named_modules() has the same
     order). Their cnn_wrapper.py imports every backbone and head of their model zoo, some of which
     need einops; the two used here do not call it, so an empty `einops` module stands in for the import.
  3. It loads the weights, turns the network to float64 (training mode: BatchNorm uses each image's
     own statistics, as the authors' script does, one image per forward), hooks exactly as
     RBFleX_TransNAS_Micro.py does ('ReLU' in str(type(module)) -> output into K; the last of
     named_modules() -> its input into Q), and records per image [sum K, sum K^2, sum Q, sum Q^2,
     Q[5], Q[1234]] and the lengths L_K, L_Q.
Needs Debian's python3-torch and python3-yaml (the config is read with yaml.safe_load, as data).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch
import yaml
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'transnas-golden.json')
CONFIG = 'config_macs_transmicroclassscene.yaml'
# per space: the authors' folder and model_wrapper package (the two hold the same model_trans code)
PACKAGES = {
    'transnas-micro': ('Trans_Micro', 'model_wrapper'),
    'transnas-macro': ('Trans_Macro', 'model_wrapper_macro'),
}


class Settings:
    """A yaml mapping as attributes (what the authors' yaml_parser gives their modules)."""

    def __init__(self, d):
        for k, v in d.items():
            setattr(self, k, Settings(v) if isinstance(v, dict) else v)


class Wrapper(nn.Module):
    """CNNWrapper's composition: backbone, then head fed the backbone's outputs."""

    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        return self.head(self.backbone(x))


def authors_network(upstream, space, arch):
    folder, wrapper = PACKAGES[space]
    base = f'designspace.{folder}.{wrapper}'
    backbone_mod = __import__(f'{base}.backbones.backbone_trans', fromlist=['BackboneTrans'])
    head_mod = __import__(f'{base}.heads.head_empty_mid', fromlist=['HeadEmptyMid'])
    with open(os.path.join(upstream, 'designspace', folder, 'configs', CONFIG)) as f:
        cfg = yaml.safe_load(f)
    bcfg = Settings(cfg['backbone_config'])
    hcfg = Settings(cfg['head_config'])
    bcfg.arch = arch
    backbone = backbone_mod.BackboneTrans(bcfg)
    hcfg.in_channel = backbone.out_channel
    return Wrapper(backbone, head_mod.HeadEmptyMid(hcfg))


def golden(upstream, space, arch, tensors):
    net = authors_network(upstream, space, arch)
    images = tensors.pop('__images__').double()
    state = net.state_dict()
    missing = [k for k in state if k not in tensors and not k.endswith(('running_mean', 'running_var', 'num_batches_tracked'))]
    extra = [k for k in tensors if k not in state]
    if missing or extra:
        raise SystemExit(f'{space} {arch}: weights do not line up with the authors\' modules: missing {missing[:5]}, unexpected {extra[:5]}')
    for k, v in tensors.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise SystemExit(f'{space} {arch}: {k} is {tuple(v.shape)} in rbflex, {tuple(state[k].shape)} in PyTorch')
        state[k] = v
    net.load_state_dict(state)
    net = net.double().train()

    def hook_k(module, inp, out):
        net.K = torch.cat([net.K, out.reshape(-1)])

    def hook_q(module, inp, out):
        net.Q = torch.cat([net.Q, inp[0].reshape(-1)])

    modules = list(net.named_modules())
    for i, (_, m) in enumerate(modules):
        if 'ReLU' in str(type(m)):
            m.register_forward_hook(hook_k)
        if i == len(modules) - 1:
            m.register_forward_hook(hook_q)
    per_image = []
    lk = lq = None
    with torch.no_grad():
        for i in range(images.shape[0]):
            net.K = torch.tensor([], dtype=torch.float64)
            net.Q = torch.tensor([], dtype=torch.float64)
            net(images[i:i + 1])
            k, q = net.K, net.Q
            lk, lq = len(k), len(q)
            per_image.append([float(k.sum()), float((k * k).sum()), float(q.sum()), float((q * q).sum()), float(q[5]), float(q[1234])])
    return {'space': space, 'arch': arch, 'lk': lk, 'lq': lq, 'perImage': per_image}


def stand_in_einops():
    """head_empty_mid.py imports einops.rearrange and never calls it: a module whose rearrange refuses to run."""
    m = types.ModuleType('einops')

    def rearrange(*_a, **_k):
        raise RuntimeError('einops.rearrange is not available here (the stand-in should never be called)')

    m.rearrange = rearrange
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--upstream', required=True, help='a checkout of github.com/tomomasayamasaki/RBFleX-NAS (holds designspace/Trans_Micro)')
    ap.add_argument('--out', default=OUT, help='where to write the fixture (default: test/fixtures/transnas-golden.json)')
    a = ap.parse_args()
    upstream = os.path.abspath(a.upstream)
    if not os.path.isdir(os.path.join(upstream, 'designspace', 'Trans_Micro')):
        raise SystemExit(f'--upstream {upstream}: no designspace/Trans_Micro there')
    sys.path.insert(0, upstream)
    sys.modules.setdefault('einops', stand_in_einops())
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(['node', os.path.join(ROOT, 'dist', 'bench', 'transnas-golden-export.js'), tmp], check=True)
        with open(os.path.join(tmp, 'meta.json')) as f:
            meta = json.load(f)
        cases = []
        for c in meta['cases']:
            g = golden(upstream, c['space'], c['arch'], read_safetensors(os.path.join(tmp, c['file'])))
            g['res'] = c['res']
            cases.append(g)
            print(f"{c['space']} {c['arch']} at {c['res']}: L_K {g['lk']}, L_Q {g['lq']}")
    commit = subprocess.run(['git', '-C', upstream, 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip() or 'unknown (not a git checkout)'
    doc = {
        'written_by': 'tools/transnas_golden.py',
        'torch': torch.__version__,
        'upstream': {'repo': 'tomomasayamasaki/RBFleX-NAS', 'commit': commit, 'config': CONFIG},
        'images': meta['images'],
        'stats': 'per image: [sum K, sum K^2, sum Q, sum Q^2, Q[5], Q[1234]] in float64',
        'cases': cases,
    }
    with open(a.out, 'w') as f:
        json.dump(doc, f, indent=2)
        f.write('\n')
    print(f'wrote {a.out}')


if __name__ == '__main__':
    main()
