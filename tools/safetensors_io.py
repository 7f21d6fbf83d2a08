"""Read a float32 safetensors file (the weights rbflex exports) into torch tensors, for the tools/ scripts."""
import json
import struct

import numpy as np
import torch


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        assert v['dtype'] == 'F32', (k, v['dtype'])
        b, e = v['data_offsets']
        out[k] = torch.from_numpy(np.frombuffer(data[b:e], dtype='<f4').copy().reshape(v['shape']))
    return out
