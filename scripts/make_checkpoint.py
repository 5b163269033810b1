#!/usr/bin/env python3
"""An independent GPTQ/AWQ packer for the tests: numpy only, written from the published
formats (not from tilus's code).

Writes OUT/layers.safetensors with four layers and, for each, OUT/<name>.x.npy (the input
[M, K], f32) and OUT/<name>.y.npy (numpy's answer x @ dequant(W).T, f64 -> f32):

- gptq4:     GPTQ 4-bit, group 32, no act order (g_idx = k // 32)
- gptq4_act: GPTQ 4-bit, group 32, act order (a random g_idx with 32 rows per group)
- gptq8:     GPTQ 8-bit, group 64
- awq4:      AWQ 4-bit, group 32 (interleaved nibbles [0, 2, 4, 6, 1, 3, 5, 7])

GPTQ: qweight int32 [K*b/32, N], bits b*j.. of word i = row (32/b)*i + j; qzeros int32
[G, N*b/32] packed along N storing z - 1; scales f16 [G, N]; g_idx int32 [K].
AWQ: qweight int32 [K, N/8], logical column j of a word in nibble [0,4,1,5,2,6,3,7][j];
qzeros the same with true zero points; scales f16 [G, N].
"""
import json
import struct
import sys

import numpy as np

rng = np.random.default_rng(1234)
M, K, N = 5, 256, 64


def quantize(w, bits, group, g_idx):
    """Asymmetric quantization of w [N, K] per (group, column): codes [K, N], zeros, scales."""
    qmax = (1 << bits) - 1
    G = K // group
    codes = np.zeros((K, N), dtype=np.int64)
    zeros = np.zeros((G, N), dtype=np.int64)
    scales = np.zeros((G, N), dtype=np.float16)
    for g in range(G):
        rows = np.nonzero(g_idx == g)[0]
        block = w[:, rows]  # [N, group]
        lo = np.minimum(block.min(axis=1), 0.0)
        hi = np.maximum(block.max(axis=1), 0.0)
        s = ((hi - lo) / qmax).astype(np.float16)
        s = np.where(s == 0, np.float16(1e-3), s)
        z = np.clip(np.round(-lo / s.astype(np.float64)), 0, qmax).astype(np.int64)
        q = np.clip(np.round(block / s.astype(np.float64)[:, None]) + z[:, None], 0, qmax)
        codes[rows, :] = q.T.astype(np.int64)
        zeros[g] = z
        scales[g] = s
    return codes, zeros, scales


def dequant(codes, zeros, scales, g_idx):
    """W [N, K] in f64 from the logical codes (rows of K in checkpoint order)."""
    s = scales.astype(np.float64)[g_idx, :]  # [K, N]
    z = zeros[g_idx, :]
    return ((codes - z) * s).T


def pack_along_k(codes, bits):
    per = 32 // bits
    out = np.zeros((K // per, N), dtype=np.uint32)
    for j in range(per):
        out |= (codes[j::per, :].astype(np.uint32) << np.uint32(bits * j))
    return out.view(np.int32)


def pack_along_n(values, bits, order=None):
    per = 32 // bits
    rows, cols = values.shape
    out = np.zeros((rows, cols // per), dtype=np.uint32)
    for j in range(per):
        slot = j if order is None else order[j]
        out |= (values[:, j::per].astype(np.uint32) << np.uint32(bits * slot))
    return out.view(np.int32)


AWQ_NIBBLE = [0, 4, 1, 5, 2, 6, 3, 7]


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr).tobytes()
        dtype = {np.dtype(np.int32): "I32", np.dtype(np.float16): "F16"}[arr.dtype]
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main(out):
    tensors = {}
    for name, fmt, bits, group, act_order in [
        ("gptq4", "gptq", 4, 32, False),
        ("gptq4_act", "gptq", 4, 32, True),
        ("gptq8", "gptq", 8, 64, False),
        ("awq4", "awq", 4, 32, False),
    ]:
        w = rng.standard_normal((N, K)) * 0.05
        g_idx = np.arange(K) // group
        if act_order:
            g_idx = rng.permutation(g_idx)
        codes, zeros, scales = quantize(w, bits, group, g_idx)
        wd = dequant(codes, zeros, scales, g_idx)
        x = (rng.standard_normal((M, K)) * 1.0).astype(np.float16).astype(np.float32)
        y = x.astype(np.float64) @ wd.T
        np.save(f"{out}/{name}.x.npy", x)
        np.save(f"{out}/{name}.y.npy", y.astype(np.float32))
        if fmt == "gptq":
            tensors[f"{name}.qweight"] = pack_along_k(codes, bits)
            tensors[f"{name}.qzeros"] = pack_along_n(zeros - 1, bits)
            tensors[f"{name}.scales"] = scales
            tensors[f"{name}.g_idx"] = g_idx.astype(np.int32)
        else:
            tensors[f"{name}.qweight"] = pack_along_n(codes, 4, AWQ_NIBBLE)
            tensors[f"{name}.qzeros"] = pack_along_n(zeros, 4, AWQ_NIBBLE)
            tensors[f"{name}.scales"] = scales
    write_safetensors(f"{out}/layers.safetensors", tensors)


if __name__ == "__main__":
    main(sys.argv[1])
