"""Expected values for test/modern-proxies.test.ts, computed the way the authors' code does
(AZ-NAS compute_az_nas_score.py: expressivity of a feature map, trainability term of one cell with
PixelUnshuffle). Run with Debian's python3-torch:  /usr/bin/python3 tools/make-modern-fixture.py
Writes test/fixtures/modern/az-nas.json."""
import json, os
import torch

torch.manual_seed(0)
f = torch.randn(2, 3, 2, 2, dtype=torch.float64)
b, c, h, w = f.size()
x = f.permute(0, 2, 3, 1).contiguous().view(b * h * w, c)
x = x - x.mean(dim=0, keepdim=True)
sigma = x.t() @ x / x.size(0)
s = torch.linalg.eigvalsh(sigma)
p = s / s.sum()
expressivity = ((-p) * torch.log(p + 1e-8)).sum().item()

g_in = torch.randn(2, 2, 4, 4, dtype=torch.float64)
g_out = torch.randn(2, 3, 2, 2, dtype=torch.float64)
u = torch.nn.PixelUnshuffle(2)(g_in)
bo, co, ho, wo = g_out.size()
A = u.permute(0, 2, 3, 1).contiguous().view(-1, u.size(1))
B = g_out.permute(0, 2, 3, 1).contiguous().view(-1, co)
m = A.t() @ B / (bo * ho * wo)
smax = torch.linalg.svdvals(m).max().item()

out = {
    "feature": {"shape": [2, 3, 2, 2], "data": f.flatten().tolist(), "expressivity": expressivity},
    "cell": {
        "gIn": {"shape": [2, 2, 4, 4], "data": g_in.flatten().tolist()},
        "gOut": {"shape": [2, 3, 2, 2], "data": g_out.flatten().tolist()},
        "unshuffled": u.flatten().tolist(),
        "term": -smax - 1 / (smax + 1e-6) + 2,
    },
}
os.makedirs("test/fixtures/modern", exist_ok=True)
with open("test/fixtures/modern/az-nas.json", "w") as fh:
    json.dump(out, fh)
