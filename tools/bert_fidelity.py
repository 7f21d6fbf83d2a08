#!/usr/bin/env python3
"""Check nafbee-bert against plain PyTorch: write test/fixtures/bert-fidelity.json.

    npm run build && /usr/bin/python3 tools/bert_fidelity.py

Runs `node dist/bench/bert-fidelity-export.js` (rbflex's seeded weights for the 11 small BERT
networks, 2 layers / hidden 64, and 3 WordPiece-encoded SST-2 sentences), builds the same
BertForSequenceClassification in plain torch (no transformers, no hub: the module code follows
Hugging Face's modeling_bert as used by the NAFBee script, eval mode), loads those weights, and
computes what RBFleX_NAFBee_BERT.py computes:
  - hooks on every module named "activation" (K, outputs) and on "classifier" (Q, input);
  - HDA, paper variant (pairs with s_i + s_j = 0 or (m_i - m_j)^2 = 0 dropped), over all 11
    networks on the whole batch;
  - per sentence: X, Y; column min-max normalisation; K, Q RBF kernels; N (logdet K + logdet Q)
    in float64 (distances as sums of squared differences).
The test test/bert-fidelity.test.ts checks rbflex's gammas and scores against this file.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c['vocab'], c['hidden'], padding_idx=0)
        self.position_embeddings = nn.Embedding(c['positions'], c['hidden'])
        self.token_type_embeddings = nn.Embedding(c['typeVocab'], c['hidden'])
        self.LayerNorm = nn.LayerNorm(c['hidden'], eps=c['eps'])

    def forward(self, ids, types):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        e = self.word_embeddings(ids) + self.token_type_embeddings(types)
        e = e + self.position_embeddings(pos)
        return self.LayerNorm(e)


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c['heads']
        self.hd = c['hidden'] // c['heads']
        self.query = nn.Linear(c['hidden'], c['hidden'])
        self.key = nn.Linear(c['hidden'], c['hidden'])
        self.value = nn.Linear(c['hidden'], c['hidden'])

    def split(self, x):
        return x.view(x.shape[0], x.shape[1], self.heads, self.hd).permute(0, 2, 1, 3)

    def forward(self, h, ext_mask):
        q, k, v = self.split(self.query(h)), self.split(self.key(h)), self.split(self.value(h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd) + ext_mask
        ctx = torch.matmul(nn.functional.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.shape[0], ctx.shape[1], -1)


class DenseNorm(nn.Module):
    def __init__(self, i, o, eps):
        super().__init__()
        self.dense = nn.Linear(i, o)
        self.LayerNorm = nn.LayerNorm(o, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseNorm(c['hidden'], c['hidden'], c['eps'])

    def forward(self, h, m):
        return self.output(self.self(h, m), h)


class Intermediate(nn.Module):
    def __init__(self, c, act):
        super().__init__()
        self.dense = nn.Linear(c['hidden'], c['intermediate'])
        self.activation = getattr(torch.nn, act)()  # as BERT_CustomActivation_Models: eval('torch.nn.' + ACTIVATION + '()')

    def forward(self, x):
        return self.activation(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c, act):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c, act)
        self.output = DenseNorm(c['intermediate'], c['hidden'], c['eps'])

    def forward(self, h, m):
        h1 = self.attention(h, m)
        return self.output(self.intermediate(h1), h1)


class Encoder(nn.Module):
    def __init__(self, c, act):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c, act) for _ in range(c['layers'])])

    def forward(self, h, m):
        for l in self.layer:
            h = l(h, m)
        return h


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden'], c['hidden'])
        self.activation = nn.Tanh()

    def forward(self, h):
        return self.activation(self.dense(h[:, 0]))


class Bert(nn.Module):
    def __init__(self, c, act):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c, act)
        self.pooler = Pooler(c)


class BertForSequenceClassification(nn.Module):
    def __init__(self, c, act):
        super().__init__()
        self.bert = Bert(c, act)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(c['hidden'], c['classes'])

    def forward(self, ids, mask, types):
        ext = (1.0 - mask[:, None, None, :].float()) * -10000.0  # get_extended_attention_mask
        h = self.bert.encoder(self.bert.embeddings(ids, types), ext)
        return self.classifier(self.dropout(self.bert.pooler(h)))


def features(net, ids, mask, types):
    """K: outputs of modules named 'activation' (hook order), Q: the classifier's input."""
    K, Q = [], []
    hooks = []
    for name, m in net.named_modules():
        leaf = name.split('.')[-1]
        if 'activation' in leaf:
            hooks.append(m.register_forward_hook(lambda mod, i, o: K.append(o.reshape(o.shape[0], -1))))
        elif 'classifier' in leaf:
            hooks.append(m.register_forward_hook(lambda mod, i, o: Q.append(i[0].reshape(i[0].shape[0], -1))))
    with torch.no_grad():
        net(ids, mask, types)
    for h in hooks:
        h.remove()
    return torch.cat(K, 1).double(), torch.cat(Q, 1).double()


def hda_candidates(v):
    out = []
    for i in range(v.shape[0] - 1):
        for j in range(i + 1, v.shape[0]):
            m1, m2 = v[i].mean(), v[j].mean()
            s1, s2 = ((v[i] - m1) ** 2).mean(), ((v[j] - m2) ** 2).mean()
            M = (m1 - m2) ** 2
            if s1 + s2 != 0 and M != 0:
                out.append(float(M / (2 * (s1 + s2))))
    return out


def normalize(x):
    mn, mx = x.min(0, keepdim=True).values, x.max(0, keepdim=True).values
    span = mx - mn
    return torch.where(span == 0, torch.zeros_like(x), (x - mn) / torch.where(span == 0, torch.ones_like(span), span))


def logdet_rbf(x, gamma):
    n = x.shape[0]
    d = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        for j in range(n):
            d[i, j] = ((x[i] - x[j]) ** 2).sum()
    return torch.linalg.slogdet(torch.exp(-gamma * d))[1].item()


def main():
    torch.set_num_threads(2)
    tmp = tempfile.mkdtemp(prefix='rbflex-bert-fidelity-')
    subprocess.run(['node', os.path.join(ROOT, 'dist', 'bench', 'bert-fidelity-export.js'), tmp], check=True)
    meta = json.load(open(os.path.join(tmp, 'meta.json')))
    c = meta['bert']
    tok = read_safetensors(os.path.join(tmp, 'input.safetensors'))['input']  # [N, 3, 1, S]
    ids, types, mask = tok[:, 0, 0].long(), tok[:, 1, 0].long(), tok[:, 2, 0].long()
    n = ids.shape[0]
    nets = {}
    cand_k, cand_q = [], []
    for act in meta['archs']:
        net = BertForSequenceClassification(c, act)
        net.load_state_dict(read_safetensors(os.path.join(tmp, f'{act}.safetensors')), strict=True)
        net.eval()
        nets[act] = net
        X, Y = features(net, ids, mask, types)  # HDA: one batched pass (no BatchNorm: same as per sentence)
        cand_k += hda_candidates(X)
        cand_q += hda_candidates(Y)
    gk, gq = min(cand_k), min(cand_q)
    scores = {}
    for act, net in nets.items():
        rows = [features(net, ids[i:i + 1], mask[i:i + 1], types[i:i + 1]) for i in range(n)]  # one sentence at a time
        X = normalize(torch.cat([r[0] for r in rows], 0))
        Y = normalize(torch.cat([r[1] for r in rows], 0))
        scores[act] = n * (logdet_rbf(X, gk) + logdet_rbf(Y, gq))
        print(f'{act:10s} {scores[act]:.6f}')
    out = {
        'what': 'tools/bert_fidelity.py: plain-PyTorch RBFleX of the nafbee-bert small networks with rbflex\'s weights',
        'torch': torch.__version__,
        'seed': meta['seed'],
        'bert': c,
        'tokens': [[[int(v) for v in tok[i, r, 0].tolist()] for r in range(3)] for i in range(n)],
        'hdaVariant': 'paper',
        'gammaK': gk,
        'gammaQ': gq,
        'scores': scores,
    }
    path = os.path.join(ROOT, 'test', 'fixtures', 'bert-fidelity.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'gamma_k {gk} gamma_q {gq}; wrote {path}')


if __name__ == '__main__':
    main()
