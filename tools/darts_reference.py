#!/usr/bin/python3
"""
Independent PyTorch DARTS-family networks, for parameter / FLOP checks of rbflex's darts and nds
spaces. Written from the DARTS paper and the module structure of quark0/darts (model.py,
operations.py) and pycls (nas.py, anynet.py); it shares no code with rbflex.

Run with Debian's torch:  /usr/bin/python3 tools/darts_reference.py
Writes test/fixtures/darts/expected.json (parameter counts and conv/linear multiply-adds) and the
small NDS fixtures test/fixtures/nds/built/{DARTS,Amoeba_in,ResNeXt-A,ResNet_in}.json (records in the
NDS format, whose "params"/"flops" fields are what this script computes: pycls counts).
"""
import csv
import json
import os
import re
import sys

import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, '..', 'shared', 'data')


# ---------------------------------------------------------------- genotype text (read as data)

def parse_genotype(text):
    fields = {}
    for name in ('normal', 'reduce'):
        m = re.search(name + r'\s*=\s*\[(.*?)\]\s*,\s*' + name + r'_concat', text)
        fields[name] = [(op, int(i)) for op, i in re.findall(r"\(\s*'(\w+)'\s*,\s*(\d+)\s*\)", m.group(1))]
        m = re.search(name + r'_concat\s*=\s*(\[[\d,\s]*\]|range\(\s*\d+\s*,\s*\d+\s*\))', text)
        c = m.group(1)
        if c.startswith('range'):
            a, b = map(int, re.findall(r'\d+', c))
            fields[name + '_concat'] = list(range(a, b))
        else:
            fields[name + '_concat'] = [int(x) for x in re.findall(r'\d+', c)]
    return fields


# ---------------------------------------------------------------- ops

def relu_conv_bn(cin, cout, k, s, p):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout))


def dw_pw(c, k, s, p, d):
    return [nn.ReLU(), nn.Conv2d(c, c, k, s, p, dilation=d, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c)]


class FactReduce(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.relu = nn.ReLU()
        self.a = nn.Conv2d(cin, cout // 2, 1, 2, bias=False)
        self.b = nn.Conv2d(cin, cout // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = self.relu(x)
        y = nn.functional.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.a(x), self.b(y)], 1))


class Zero(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.s = s

    def forward(self, x):
        return x[:, :, ::self.s, ::self.s] * 0.0


class Ident(nn.Module):
    def forward(self, x):
        return x


def make_op(name, c, s):
    if name == 'none':
        return Zero(s)
    if name == 'skip_connect':
        return Ident() if s == 1 else FactReduce(c, c)
    m = re.fullmatch(r'(max|avg)_pool_(\d)x\d', name)
    if m:
        k = int(m.group(2))
        if m.group(1) == 'max':
            return nn.MaxPool2d(k, s, k // 2)
        return nn.AvgPool2d(k, s, k // 2, count_include_pad=False)
    m = re.fullmatch(r'(sep|dil_sep|dil)_conv_(\d)x\d', name)
    if m:
        k = int(m.group(2))
        d = 1 if m.group(1) == 'sep' else 2
        p = d * (k - 1) // 2
        layers = dw_pw(c, k, s, p, d)
        if m.group(1) != 'dil':
            layers += dw_pw(c, k, 1, p, d)
        return nn.Sequential(*layers)
    m = re.fullmatch(r'conv_(\d)x1_1x\d', name)
    if m:
        k = int(m.group(1))
        return nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, (1, k), (1, s), (0, k // 2), bias=False),
                             nn.Conv2d(c, c, (k, 1), (s, 1), (k // 2, 0), bias=False), nn.BatchNorm2d(c))
    m = re.fullmatch(r'conv_(\d)x\d', name)
    if m:
        k = int(m.group(1))
        return relu_conv_bn(c, c, k, s, k // 2)
    raise ValueError(name)


class Cell(nn.Module):
    def __init__(self, edges, concat, cpp, cp, c, reduction, reduction_prev):
        super().__init__()
        self.pre0 = FactReduce(cpp, c) if reduction_prev else relu_conv_bn(cpp, c, 1, 1, 0)
        self.pre1 = relu_conv_bn(cp, c, 1, 1, 0)
        self.edges = edges
        self.concat = concat
        self.ops = nn.ModuleList([make_op(op, c, 2 if reduction and i < 2 else 1) for op, i in edges])

    def forward(self, s0, s1):
        st = [self.pre0(s0), self.pre1(s1)]
        for n in range(len(self.edges) // 2):
            a, b = self.edges[2 * n], self.edges[2 * n + 1]
            st.append(self.ops[2 * n](st[a[1]]) + self.ops[2 * n + 1](st[b[1]]))
        return torch.cat([st[i] for i in self.concat], 1)


class CellNet(nn.Module):
    def __init__(self, g, C, layers, classes, imagenet=False):
        super().__init__()
        if imagenet:
            self.stem0 = nn.Sequential(nn.Conv2d(3, C // 2, 3, 2, 1, bias=False), nn.BatchNorm2d(C // 2), nn.ReLU(),
                                       nn.Conv2d(C // 2, C, 3, 2, 1, bias=False), nn.BatchNorm2d(C))
            self.stem1 = nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, 3, 2, 1, bias=False), nn.BatchNorm2d(C))
            cpp = cp = C
            rprev = True
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, 3 * C, 3, 1, 1, bias=False), nn.BatchNorm2d(3 * C))
            cpp = cp = 3 * C
            rprev = False
        self.imagenet = imagenet
        c = C
        self.cells = nn.ModuleList()
        for i in range(layers):
            red = i in (layers // 3, 2 * layers // 3)
            if red:
                c *= 2
            kind = 'reduce' if red else 'normal'
            cell = Cell(g[kind], g[kind + '_concat'], cpp, cp, c, red, rprev)
            self.cells.append(cell)
            rprev = red
            cpp, cp = cp, c * len(g[kind + '_concat'])
        self.fc = nn.Linear(cp, classes)

    def forward(self, x):
        if self.imagenet:
            s0 = self.stem0(x)
            s1 = self.stem1(s0)
        else:
            s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.fc(s1.mean((2, 3)))


# ---------------------------------------------------------------- AnyNet (NDS ResNet / ResNeXt)

class AnyNet(nn.Module):
    def __init__(self, net):
        super().__init__()
        stem, sw = net['stem_type'], net['stem_w']
        if stem == 'res_stem_cifar':
            self.stem = nn.Sequential(nn.Conv2d(3, sw, 3, 1, 1, bias=False), nn.BatchNorm2d(sw), nn.ReLU())
        elif stem == 'res_stem_in':
            self.stem = nn.Sequential(nn.Conv2d(3, sw, 7, 2, 3, bias=False), nn.BatchNorm2d(sw), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, sw, 3, 2, 1, bias=False), nn.BatchNorm2d(sw), nn.ReLU())
        blocks = []
        w_in = sw
        bt = net['block_type']
        for d, w, s, bm, g in zip(net['ds'], net['ws'], net['ss'], net.get('bot_muls') or [1.0] * len(net['ds']), net.get('num_gs') or [1] * len(net['ds'])):
            for i in range(d):
                blocks.append(Block(bt, w_in if i == 0 else w, w, s if i == 0 else 1, bm, g))
            w_in = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(w_in, net['nc'])

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


class Block(nn.Module):
    def __init__(self, bt, w_in, w_out, s, bm, g):
        super().__init__()
        self.residual = bt != 'vanilla_block' and bt != 'double_plain_block'
        if bt == 'res_bottleneck_block':
            wb = int(round(w_out * bm))
            self.f = nn.Sequential(nn.Conv2d(w_in, wb, 1, bias=False), nn.BatchNorm2d(wb), nn.ReLU(),
                                   nn.Conv2d(wb, wb, 3, s, 1, groups=g, bias=False), nn.BatchNorm2d(wb), nn.ReLU(),
                                   nn.Conv2d(wb, w_out, 1, bias=False), nn.BatchNorm2d(w_out))
        else:
            layers = [nn.Conv2d(w_in, w_out, 3, s, 1, bias=False), nn.BatchNorm2d(w_out), nn.ReLU(),
                      nn.Conv2d(w_out, w_out, 3, 1, 1, bias=False), nn.BatchNorm2d(w_out)]
            if not self.residual:
                layers.append(nn.ReLU())
            self.f = nn.Sequential(*layers)
        self.proj = None
        if self.residual and (w_in != w_out or s != 1):
            self.proj = nn.Sequential(nn.Conv2d(w_in, w_out, 1, s, bias=False), nn.BatchNorm2d(w_out))

    def forward(self, x):
        if not self.residual:
            return self.f(x)
        sc = self.proj(x) if self.proj is not None else x
        return torch.relu(sc + self.f(x))


# ---------------------------------------------------------------- counting

def count(model, size):
    params = sum(p.numel() for p in model.parameters())
    macs = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
            macs[0] += out.numel() // out.shape[0] * k + (out.numel() // out.shape[0] if m.bias is not None else 0)
        elif isinstance(m, nn.Linear):
            macs[0] += m.in_features * m.out_features + (m.out_features if m.bias is not None else 0)

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in hs:
        h.remove()
    return params, macs[0]


PUBLISHED = {
    'DARTS_V1': "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])",
    'DARTS_V2': "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])",
    'NASNet': "Genotype(normal=[('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 0), ('sep_conv_3x3', 0), ('avg_pool_3x3', 1), ('skip_connect', 0), ('avg_pool_3x3', 0), ('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 1)], normal_concat=[2, 3, 4, 5, 6], reduce=[('sep_conv_5x5', 1), ('sep_conv_7x7', 0), ('max_pool_3x3', 1), ('sep_conv_7x7', 0), ('avg_pool_3x3', 1), ('sep_conv_5x5', 0), ('skip_connect', 3), ('avg_pool_3x3', 2), ('sep_conv_3x3', 2), ('max_pool_3x3', 1)], reduce_concat=[4, 5, 6])",
    'AmoebaNet': "Genotype(normal=[('avg_pool_3x3', 0), ('max_pool_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('avg_pool_3x3', 3), ('sep_conv_3x3', 1), ('skip_connect', 1), ('skip_connect', 0), ('avg_pool_3x3', 1)], normal_concat=[4, 5, 6], reduce=[('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('sep_conv_7x7', 2), ('sep_conv_7x7', 0), ('avg_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1), ('conv_7x1_1x7', 0), ('sep_conv_3x3', 5)], reduce_concat=[3, 4, 6])",
    'PNASNet': "Genotype(normal=[('sep_conv_5x5', 0), ('max_pool_3x3', 0), ('sep_conv_7x7', 1), ('max_pool_3x3', 1), ('sep_conv_5x5', 1), ('sep_conv_3x3', 1), ('sep_conv_3x3', 4), ('max_pool_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2, 3, 4, 5, 6], reduce=[('sep_conv_5x5', 0), ('max_pool_3x3', 0), ('sep_conv_7x7', 1), ('max_pool_3x3', 1), ('sep_conv_5x5', 1), ('sep_conv_3x3', 1), ('sep_conv_3x3', 4), ('max_pool_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 1)], reduce_concat=[2, 3, 4, 5, 6])",
}


def darts_cases():
    out = []
    for name, text in PUBLISHED.items():
        g = parse_genotype(text)
        for C, L in ((36, 20), (16, 8)):
            p, f = count(CellNet(g, C, L, 10), 32)
            out.append({'name': name, 'genotype': text, 'C': C, 'layers': L, 'params': p, 'flops': f})
    path = os.path.join(SHARED, 'darts', 'swap-darts-1000-cifar10.csv')
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    for k in (0, 1, 2, 3, 4, 250, 500, 999):
        text = rows[k]['genotype']
        p, f = count(CellNet(parse_genotype(text), 16, 8, 10), 32)
        out.append({'name': f'swap row {k}', 'genotype': text, 'C': 16, 'layers': 8, 'params': p, 'flops': f})
    return out


# ---------------------------------------------------------------- NDS fixtures (tiny, exact format)

def nds_record(job, net, params, flops, err):
    return {'job_id': job, 'exp_mem': 100.0, 'params': params, 'flops': flops, 'net': net,
            'optim': {'lr': 0.1, 'wd': 0.0005, 'max_ep': 100}, 'act_mem': 1.0, 'prec_time': 0.1, 'iter_time': 0.2,
            'min_test_top1': err, 'train_ep_loss': [2.0, 1.0], 'train_ep_top1': [70.0, 20.0],
            'test_ep_top1': [60.0, err + 0.5], 'train_it_loss': [2.1], 'train_it_top1': [71.0]}


def cell_net_json(text, width, depth):
    g = parse_genotype(text)
    return {'genotype': {'normal': [[o, i] for o, i in g['normal']], 'normal_concat': g['normal_concat'],
                         'reduce': [[o, i] for o, i in g['reduce']], 'reduce_concat': g['reduce_concat']},
            'width': width, 'depth': depth, 'aux': False, 'drop_prob': 0.0}


def nds_fixtures():
    files = {}
    recs = []
    for job, (name, w, d) in enumerate((('DARTS_V2', 16, 8), ('DARTS_V1', 18, 5), ('NASNet', 12, 6))):
        net = cell_net_json(PUBLISHED[name], w, d)
        p, f = count(CellNet(parse_genotype(PUBLISHED[name]), w, d, 10), 32)
        recs.append(nds_record(job, net, p, f, 10.0 + job))
    files['DARTS.json'] = recs
    recs = []
    for job, (name, w, d) in enumerate((('AmoebaNet', 16, 6), ('PNASNet', 12, 4))):
        net = cell_net_json(PUBLISHED[name], w, d)
        p, f = count(CellNet(parse_genotype(PUBLISHED[name]), w, d, 1000, imagenet=True), 224)
        recs.append(nds_record(job, net, p, f, 30.0 + job))
    files['Amoeba_in.json'] = recs
    anynets = [
        {'block_type': 'res_bottleneck_block', 'ds': [1, 2, 1], 'ws': [32, 64, 128], 'ss': [1, 2, 2], 'bot_muls': [0.5, 0.25, 0.5],
         'num_gs': [2, 4, 8], 'stem_type': 'res_stem_cifar', 'stem_w': 16, 'nc': 10},
        {'block_type': 'res_bottleneck_block', 'ds': [2, 1, 1], 'ws': [24, 48, 96], 'ss': [1, 2, 2], 'bot_muls': [1.0, 0.5, 0.25],
         'num_gs': [1, 2, 4], 'stem_type': 'res_stem_cifar', 'stem_w': 16, 'nc': 10},
    ]
    recs = []
    for job, net in enumerate(anynets):
        p, f = count(AnyNet(net), 32)
        recs.append(nds_record(job, net, p, f, 8.0 + job))
    files['ResNeXt-A.json'] = {'top': recs[:1], 'mid': recs[1:]}
    resnets = [
        {'block_type': 'res_basic_block', 'ds': [1, 1, 2, 1], 'ws': [16, 32, 48, 64], 'ss': [1, 2, 2, 2], 'bot_muls': [1.0] * 4,
         'num_gs': [1] * 4, 'stem_type': 'res_stem_in', 'stem_w': 16, 'nc': 1000},
        {'block_type': 'res_basic_block', 'ds': [2, 1, 1, 1], 'ws': [16, 24, 48, 96], 'ss': [1, 2, 2, 2], 'bot_muls': [1.0] * 4,
         'num_gs': [1] * 4, 'stem_type': 'res_stem_in', 'stem_w': 16, 'nc': 1000},
    ]
    recs = []
    for job, net in enumerate(resnets):
        p, f = count(AnyNet(net), 224)
        recs.append(nds_record(job, net, p, f, 40.0 + job))
    files['ResNet_in.json'] = recs
    return files


def main():
    torch.manual_seed(0)
    cases = darts_cases()
    os.makedirs(os.path.join(ROOT, 'test', 'fixtures', 'darts'), exist_ok=True)
    with open(os.path.join(ROOT, 'test', 'fixtures', 'darts', 'expected.json'), 'w') as fh:
        json.dump({'generator': 'tools/darts_reference.py', 'torch': torch.__version__, 'cases': cases}, fh, indent=1)
    os.makedirs(os.path.join(ROOT, 'test', 'fixtures', 'nds', 'built'), exist_ok=True)
    for name, data in nds_fixtures().items():
        with open(os.path.join(ROOT, 'test', 'fixtures', 'nds', 'built', name), 'w') as fh:
            json.dump(data, fh, indent=1)
    for c in cases:
        print(f"{c['name']:>12} C={c['C']:<3} L={c['layers']:<3} params {c['params']:>9}  macs {c['flops']}")


if __name__ == '__main__':
    sys.exit(main())
