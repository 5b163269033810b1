#!/usr/bin/env python3
"""Regenerate the ml_dtypes golden tables in tilus-ir/tests/golden/.

Usage: python3 scripts/golden_dtypes.py   (needs numpy and ml_dtypes 0.6.0)

For each of float4_e2m1fn, float6_e3m2fn, float6_e2m3fn, float8_e4m3fn, float8_e5m2 it
writes <type>.dec.txt (every code -> f32 bits) and <type>.enc.bin (100_000 f32 inputs and
the code ml_dtypes gives each). The output is deterministic: rerunning produces identical
bytes. See tilus-ir/tests/golden/README.md for the formats.
"""

import os
import sys

import ml_dtypes
import numpy as np

N_INPUTS = 100_000
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tilus-ir", "tests", "golden")

# (file name, ml_dtypes type, bits, NaN inputs recorded?). For the sub-byte "fn" types
# ml_dtypes maps NaN to a zero whose sign is the opposite of the NaN's, while the spec maps
# NaN to +0, so NaN inputs are left out of those tables.
TYPES = [
    ("float4_e2m1fn", ml_dtypes.float4_e2m1fn, 4, False),
    ("float6_e3m2fn", ml_dtypes.float6_e3m2fn, 6, False),
    ("float6_e2m3fn", ml_dtypes.float6_e2m3fn, 6, False),
    ("float8_e4m3fn", ml_dtypes.float8_e4m3fn, 8, True),
    ("float8_e5m2", ml_dtypes.float8_e5m2, 8, True),
]

F32_SPECIALS = np.array(
    [0x00000000, 0x80000000, 0x7F800000, 0xFF800000,  # zeros, infinities
     0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF,  # f32 subnormal extremes
     0x00800000, 0x80800000, 0x7F7FFFFF, 0xFF7FFFFF,  # f32 min normal, max
     0x3F800000, 0xBF800000],
    dtype=np.uint32)
F32_NANS = np.array([0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FFFFFFF, 0xFFFFFFFF,
                     0x7FA00000], dtype=np.uint32)


def decode_all(t, bits):
    codes = np.arange(1 << bits, dtype=np.uint8)
    return codes.view(t).astype(np.float32)


def structured_inputs(vals):
    """Exact values, midpoints, midpoints +-1 ulp, values +-1 ulp, quarter points, both signs."""
    finite = vals[np.isfinite(vals)]
    pos = np.unique(np.abs(finite).astype(np.float64))  # sorted, starts at 0
    top = pos[-1] + (pos[-1] - pos[-2])  # the value one step above max (overflow side)
    pts = np.concatenate([pos, [top, 2 * top, 4 * top, 1e10, 3.0e38]])
    a, b = pts[:-1], pts[1:]
    mid = (a + b) / 2
    groups = [pts, mid, (a + mid) / 2, (mid + b) / 2]
    base = np.concatenate(groups).astype(np.float32)
    up = np.nextafter(base, np.float32(np.inf))
    down = np.nextafter(base, np.float32(-np.inf))
    allp = np.concatenate([base, up, down])
    allp = allp[allp >= 0]
    return np.concatenate([allp, -allp]).astype(np.float32)


def random_inputs(rng, vals, count, with_nan):
    finite = np.abs(vals[np.isfinite(vals)].astype(np.float64))
    lo = finite[finite > 0].min() / 8
    hi = finite.max() * 2
    n_bits = count // 2
    pats = rng.integers(0, 1 << 32, size=4 * n_bits, dtype=np.uint64).astype(np.uint32)
    x = pats.view(np.float32)
    if not with_nan:
        x = x[~np.isnan(x)]
    x = x[:n_bits]
    n_range = count - len(x)
    mag = np.exp(rng.uniform(np.log(lo), np.log(hi), size=n_range))
    sign = np.where(rng.integers(0, 2, size=n_range) == 1, -1.0, 1.0)
    y = (mag * sign).astype(np.float32)
    return np.concatenate([x, y])


def f32_subnormals(rng, count):
    pats = rng.integers(1, 1 << 23, size=count, dtype=np.uint64).astype(np.uint32)
    signs = (rng.integers(0, 2, size=count, dtype=np.uint64).astype(np.uint32)) << np.uint32(31)
    return (pats | signs).view(np.float32)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for idx, (name, t, bits, with_nan) in enumerate(TYPES):
        rng = np.random.default_rng(0x7105 + idx)
        vals = decode_all(t, bits)
        with open(os.path.join(OUT_DIR, f"{name}.dec.txt"), "w", newline="\n") as f:
            f.write(f"# {name}: code (hex) -> decoded f32 bits (hex), ml_dtypes {ml_dtypes.__version__}\n")
            for code, v in enumerate(vals):
                f.write(f"{code:02x} {int(v.view(np.uint32)):08x}\n")
        parts = [F32_SPECIALS.view(np.float32)]
        if with_nan:
            parts.append(F32_NANS.view(np.float32))
        parts.append(f32_subnormals(rng, 200))
        parts.append(structured_inputs(vals))
        fixed = np.concatenate(parts)
        rest = random_inputs(rng, vals, N_INPUTS - len(fixed), with_nan)
        xs = np.concatenate([fixed, rest]).astype(np.float32)
        assert len(xs) == N_INPUTS, len(xs)
        if not with_nan:
            assert not np.isnan(xs).any()
        with np.errstate(invalid="ignore", over="ignore"):
            codes = xs.astype(t).view(np.uint8)
        rec = np.zeros(N_INPUTS, dtype=[("x", "<u4"), ("c", "u1")])
        rec["x"] = xs.view(np.uint32)
        rec["c"] = codes
        with open(os.path.join(OUT_DIR, f"{name}.enc.bin"), "wb") as f:
            f.write(rec.tobytes())
        print(f"{name}: {len(vals)} codes, {N_INPUTS} encodings ({len(fixed)} structured)", file=sys.stderr)


if __name__ == "__main__":
    main()
