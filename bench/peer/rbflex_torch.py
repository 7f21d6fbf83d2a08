#!/usr/bin/env python3
"""Independent PyTorch peer for the rbflex benchmark (bench/run.ts).

The RBFleX-NAS score (../../../shared/SPEC.md section 1, or the project's SPEC) of NAS-Bench-201
networks, written from the definition with plain torch modules that mirror the xautodl
TinyNetwork (C=16, N=5) module for module, so that the reference hook rule sees the same modules:

  * every module whose ``str(type(module))`` contains 'ReLU' -> its output is an activation tap
    (nn.ReLU, and our ReLUConvBN class, whose output is the post-BatchNorm tensor);
  * the last module of ``named_modules()`` (the classifier) -> its input is the classifier input.

Each image runs alone (batch of 1) in training mode; everything after the forward is float64:
column-wise min-max normalisation (a constant column becomes 0), RBF kernels from direct squared
differences, slogdet, score = N * (log|det K| + log|det Q|).

Modes (JSON on stdout, one object):

  speed   time the per-network work with torch default init (seeded with torch.manual_seed):
          build the model, register hooks, forward each image, normalise, kernels, slogdet.
          --variant efficient   hooks append to a list, one torch.cat per image, direct
                                squared differences (the straightforward efficient code);
          --variant reference   the reference script's own pattern: every hook concatenates
                                onto a growing float64 tensor, one extra forward to measure the
                                feature lengths, and the |a|^2+|b|^2-2ab kernel expansion.
  scores  load weights from a binary file (flat float32 little-endian, every network's
          parameters in model.parameters() order, shapes checked against a manifest) and images
          from a binary file (float32 NCHW, already normalised); print each arch's score.

Usage:
  rbflex_torch.py speed  --archs FILE --images FILE --shape N,C,H,W [--threads T] [--seed S]
                         [--variant efficient|reference] [--warmup K (first K archs, untimed)]
                         [--start-at EPOCH_SECONDS]
  rbflex_torch.py scores --manifest FILE [--threads T]
  rbflex_torch.py info
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn

GAMMA_K = 2.68690173088039e-12
GAMMA_Q = 1.02460061284506e-11
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


# --------------------------------------------------------------------------------------------
# The network (module structure as in xautodl; names and nesting kept so that parameters come
# out of model.parameters() in the same order as xautodl's and the project's IR)
# --------------------------------------------------------------------------------------------


class ReLUConvBN(nn.Module):
    """ReLU -> Conv(bias=False) -> BN. Its class name contains 'ReLU', so the reference hook
    rule taps its output too."""

    def __init__(self, c_in, c_out, kernel, stride, pad):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=pad, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x):
        return self.op(x)


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


class Identity(nn.Module):
    def forward(self, x):
        return x


class AvgPool3x3(nn.Module):
    """xautodl POOLING with C_in == C_out (always so inside NB201 cells): no preprocess."""

    def __init__(self):
        super().__init__()
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        return self.op(x)


def make_op(name, c):
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, 1, 1)
    if name == "avg_pool_3x3":
        return AvgPool3x3()
    raise ValueError("unknown op %r" % name)


def parse_arch(arch):
    """'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' -> [[(op, from)], [..,..], [..,..,..]]"""
    groups = arch.strip().split("+")
    if len(groups) != 3:
        raise ValueError("bad NB201 arch %r" % arch)
    genotype = []
    for node, grp in enumerate(groups, start=1):
        if not (grp.startswith("|") and grp.endswith("|")):
            raise ValueError("bad NB201 arch %r" % arch)
        edges = []
        for frm, e in enumerate(grp[1:-1].split("|")):
            op, _, inp = e.partition("~")
            if op not in NB201_OPS or int(inp) != frm:
                raise ValueError("bad edge %r in NB201 arch %r" % (e, arch))
            edges.append((op, frm))
        if len(edges) != node:
            raise ValueError("bad NB201 arch %r" % arch)
        genotype.append(edges)
    return genotype


class InferCell(nn.Module):
    def __init__(self, genotype, c):
        super().__init__()
        self.layers = nn.ModuleList()
        self.wiring = []  # per node: [(layer index, input node)]
        for edges in genotype:
            wires = []
            for op, frm in edges:
                wires.append((len(self.layers), frm))
                self.layers.append(make_op(op, c))
            self.wiring.append(wires)

    def forward(self, x):
        nodes = [x]
        for wires in self.wiring:
            nodes.append(sum(self.layers[li](nodes[frm]) for li, frm in wires))
        return nodes[-1]


class ResNetBasicblock(nn.Module):
    """stride 2: conv_a ReLUConvBN 3x3 s2, conv_b ReLUConvBN 3x3 s1, downsample AvgPool(2,2) -> Conv1x1."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x):
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class TinyNetwork(nn.Module):
    def __init__(self, genotype, C=16, N=5, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, C, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(C))
        channels = [C] * N + [2 * C] + [2 * C] * N + [4 * C] + [4 * C] * N
        reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        self.cells = nn.ModuleList()
        c_prev = C
        for c, red in zip(channels, reductions):
            self.cells.append(ResNetBasicblock(c_prev, c) if red else InferCell(genotype, c))
            c_prev = c
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x):
        f = self.stem(x)
        for cell in self.cells:
            f = cell(f)
        out = self.global_pooling(self.lastact(f))
        out = out.view(out.size(0), -1)
        return out, self.classifier(out)


# --------------------------------------------------------------------------------------------
# The score
# --------------------------------------------------------------------------------------------


def tap_modules(model):
    """(activation modules, last module) by the reference rule."""
    mods = list(model.named_modules())
    acts = [m for _, m in mods if "ReLU" in str(type(m))]
    return acts, mods[-1][1]


def normalize_columns(m):
    """column-wise min-max; a constant column becomes 0 (float64 in, float64 out)"""
    mn = m.min(dim=0, keepdim=True).values
    rng = m.max(dim=0, keepdim=True).values - mn
    rng[rng == 0] = 1.0
    return (m - mn) / rng


def rbf_direct(m, gamma):
    """K_ij = exp(-gamma * sum_k (m_ik - m_jk)^2), by direct squared differences, float64"""
    n = m.shape[0]
    d = torch.zeros((n, n), dtype=torch.float64)
    for i in range(n):
        for j in range(i + 1, n):
            v = torch.sum((m[i] - m[j]) ** 2)
            d[i, j] = v
            d[j, i] = v
    return torch.exp(-gamma * d)


def score_from_matrices(X, Y, gk, gq):
    n = X.shape[0]
    K = rbf_direct(normalize_columns(X), gk)
    Q = rbf_direct(normalize_columns(Y), gq)
    _, ldk = torch.linalg.slogdet(K)
    _, ldq = torch.linalg.slogdet(Q)
    s = n * (ldk.item() + ldq.item())
    return -math.inf if math.isnan(s) else s


def score_efficient(model, images, gk=GAMMA_K, gq=GAMMA_Q):
    """Hooks collect float32 views into a list; one cat per image; float64 after the forward."""
    acts, last = tap_modules(model)
    xs, ys = [], []
    hs = [m.register_forward_hook(lambda _m, _i, o: xs.append(o.reshape(-1))) for m in acts]
    hs.append(last.register_forward_hook(lambda _m, i, _o: ys.append(i[0].reshape(-1))))
    model.train()
    rows_x, rows_y = [], []
    with torch.no_grad():
        for k in range(images.shape[0]):
            xs.clear()
            ys.clear()
            model(images[k : k + 1])
            rows_x.append(torch.cat(xs).to(torch.float64))
            rows_y.append(torch.cat(ys).to(torch.float64))
    for h in hs:
        h.remove()
    return score_from_matrices(torch.stack(rows_x), torch.stack(rows_y), gk, gq)


def score_reference_pattern(model, images, gk=GAMMA_K, gq=GAMMA_Q):
    """The reference script's per-network pattern (for timing): every hook concatenates onto a
    growing float64 tensor; an extra forward measures the lengths; the kernel uses the
    |a|^2+|b|^2-2ab expansion; its normalize(); slogdet."""
    f64 = dict(dtype=torch.float64)
    state = {}

    def hook_k(_m, _i, o):
        state["K"] = torch.cat([state["K"], o.view(-1)])

    def hook_q(_m, i, _o):
        state["Q"] = torch.cat([state["Q"], i[0].view(-1)])

    mods = list(model.named_modules())
    for idx, (_, m) in enumerate(mods):
        if "ReLU" in str(type(m)):
            m.register_forward_hook(hook_k)
        if idx == len(mods) - 1:
            m.register_forward_hook(hook_q)
    model.train()
    n = images.shape[0]
    with torch.no_grad():
        state["K"] = torch.tensor([], **f64)
        state["Q"] = torch.tensor([], **f64)
        model(images[0:1].clone())
        la, lq = len(state["K"]), len(state["Q"])
        X = torch.zeros([n, la], **f64)
        Y = torch.zeros([n, lq], **f64)
        for k in range(n):
            state["K"] = torch.tensor([], **f64)
            state["Q"] = torch.tensor([], **f64)
            model(images[k : k + 1].clone())
            X[k, :] = state["K"]
            Y[k, :] = state["Q"]

        def normalize(x):
            mn = torch.min(x, dim=0, keepdim=True).values
            mx = torch.max(x, dim=0, keepdim=True).values
            mx[mx == mn] = 1
            mn[mx == mn] = 0
            return (x - mn) / (mx - mn)

        def sim(m, gamma):
            sq = torch.sum(m**2, dim=-1)
            return torch.exp(-gamma * (sq[:, None] + sq[None, :] - 2 * torch.matmul(m, m.T)))

        _, ldk = torch.linalg.slogdet(sim(normalize(X), gk))
        _, ldq = torch.linalg.slogdet(sim(normalize(Y), gq))
    return n * (ldk.item() + ldq.item())


# --------------------------------------------------------------------------------------------
# I/O
# --------------------------------------------------------------------------------------------


def read_images(path, shape):
    n, c, h, w = shape
    raw = open(path, "rb").read()
    if len(raw) != 4 * n * c * h * w:
        raise SystemExit("images file %s has %d bytes; expected %d for float32 %s" % (path, len(raw), 4 * n * c * h * w, shape))
    t = torch.frombuffer(bytearray(raw), dtype=torch.float32)  # little-endian host assumed below
    if sys.byteorder != "little":
        t = t.byteswap()
    return t.reshape(n, c, h, w).clone()


def load_weights(model, path, shapes, arch):
    raw = open(path, "rb").read()
    flat = torch.frombuffer(bytearray(raw), dtype=torch.float32)
    params = list(model.parameters())
    if len(params) != len(shapes):
        raise SystemExit("weights for %s: the torch model has %d parameter tensors, the file describes %d" % (arch, len(params), len(shapes)))
    off = 0
    with torch.no_grad():
        for k, (p, shp) in enumerate(zip(params, shapes)):
            if list(p.shape) != list(shp):
                raise SystemExit("weights for %s: parameter %d has shape %s in torch but %s in the file" % (arch, k, list(p.shape), list(shp)))
            cnt = p.numel()
            if off + cnt > flat.numel():
                raise SystemExit("weights for %s: file %s too short" % (arch, path))
            p.copy_(flat[off : off + cnt].reshape(p.shape))
            off += cnt
    if off != flat.numel():
        raise SystemExit("weights for %s: file %s has %d floats, the model takes %d" % (arch, path, flat.numel(), off))


def read_archs(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["speed", "scores", "info"])
    ap.add_argument("--archs")
    ap.add_argument("--images")
    ap.add_argument("--shape", help="N,C,H,W of the images file")
    ap.add_argument("--manifest")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--variant", choices=["efficient", "reference"], default="efficient")
    ap.add_argument("--warmup", type=int, default=0, help="the first K archs of the file are scored before the timed loop, untimed")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--start-at", type=float, default=0.0,
                    help="after the warm-up, wait until this time.time() before the timed loop (to start several peers together)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "python": sys.version.split()[0]}
    if a.mode == "info":
        print(json.dumps(info))
        return

    if a.mode == "speed":
        if not (a.archs and a.images and a.shape):
            raise SystemExit("speed needs --archs, --images and --shape")
        archs = read_archs(a.archs)
        images = read_images(a.images, [int(v) for v in a.shape.split(",")])
        fn = score_efficient if a.variant == "efficient" else score_reference_pattern
        torch.manual_seed(a.seed)
        for arch in archs[: a.warmup]:
            fn(TinyNetwork(parse_arch(arch), num_classes=a.classes), images)
        scores = []
        w0 = time.time()
        while time.time() < a.start_at:
            time.sleep(min(0.01, max(0.0, a.start_at - time.time())))
        e0 = time.time()
        t0 = time.perf_counter()
        c0 = time.process_time()
        for arch in archs[a.warmup :]:
            model = TinyNetwork(parse_arch(arch), num_classes=a.classes)
            scores.append(fn(model, images))
        dt = time.perf_counter() - t0
        cpu = time.process_time() - c0
        e1 = time.time()
        timed = len(archs) - min(a.warmup, len(archs))
        out = dict(info, mode="speed", variant=a.variant, networks=timed, loop_s=dt, cpu_s=cpu,
                   process_cpu_s=time.process_time(), loop_start=e0, loop_end=e1, waited_s=e0 - w0,
                   per_s=timed / dt if dt > 0 else None,
                   finite=sum(1 for s in scores if math.isfinite(s)))
        print(json.dumps(out))
        return

    # scores
    if not a.manifest:
        raise SystemExit("scores needs --manifest")
    base = os.path.dirname(os.path.abspath(a.manifest))
    man = json.load(open(a.manifest))
    images = read_images(os.path.join(base, man["images"]["file"]), man["images"]["shape"])
    gk, gq = man.get("gammaK", GAMMA_K), man.get("gammaQ", GAMMA_Q)
    res = {}
    for net in man["nets"]:
        model = TinyNetwork(parse_arch(net["arch"]), num_classes=man.get("classes", 10))
        load_weights(model, os.path.join(base, net["file"]), net["shapes"], net["arch"])
        s = score_efficient(model, images, gk, gq)
        res[net["arch"]] = s if math.isfinite(s) else None
    print(json.dumps(dict(info, mode="scores", scores=res)))


if __name__ == "__main__":
    main()
