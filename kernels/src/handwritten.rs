//! Hand-written WGSL GEMVs: the baselines `tilus bench gemm` measures our compiled kernels
//! against, in the same process and on the same buffers.
//!
//! They are what a competent author writes directly in WGSL without a compiler: one thread
//! per two output columns, a loop over `k` reading one packed `u32` word of each column at a
//! time, `unpack2x16float` for the activations, the scale applied once per group. They
//! read the buffers of the SIMT plan ([`crate::simt`]): activations `f16 [M, K]`, weights as
//! column-major `u32` words (for `u4`, word `w` of column `n` holds codes `8w .. 8w + 8`; for
//! `f16`, two codes), scales `f16 [G, N]`, and write `C f16 [M, N]`.
//!
//! Two kernels exist, `f16` weights (a16w16) and symmetric `u4` (a16w4); both need
//! `f16` activations, an even `N`, `K` a multiple of 32 and a group size that is a multiple
//! of 8 (or per channel). Anything else is an error, not a silent fallback.

use tilus_ir::dtype::DType;
use tilus_lower::artifact::{Artifact, GridExpr, LaunchContract, ParamBinding};

use crate::config::{GroupSize, QuantMode};
use crate::error::{KernelError, Result};
use crate::simt::SimtConfig;

const U4: DType = DType::Int {
    bits: 4,
    signed: false,
};
const U32: DType = DType::Int {
    bits: 32,
    signed: false,
};

/// Columns per workgroup: 64 threads × 2 columns.
const COLS: i64 = 128;

fn unsupported(reason: String) -> KernelError {
    KernelError::InvalidConfig {
        kernel: "handwritten gemv",
        reason,
    }
}

/// The hand-written GEMV for the buffers of `plan` and a problem of `k` columns of `A`.
pub fn handwritten_gemv(plan: &SimtConfig, n: usize, k: usize) -> Result<Artifact> {
    if plan.act != DType::F16 || plan.mode != QuantMode::Symmetric {
        return Err(unsupported(format!(
            "needs f16 activations and symmetric weights, got {} activations, {:?}",
            plan.act, plan.mode
        )));
    }
    if !n.is_multiple_of(2) || !k.is_multiple_of(32) {
        return Err(unsupported(format!(
            "needs an even N and K a multiple of 32, got N = {n}, K = {k}"
        )));
    }
    let group = match plan.group {
        GroupSize::Size(g) if g.is_multiple_of(8) && k.is_multiple_of(g) => g,
        GroupSize::PerChannel => k,
        other => {
            return Err(unsupported(format!(
                "needs a group size that is a multiple of 8 and divides K, got {other:?}"
            )))
        }
    };
    let (name, words_per_group, body) = match plan.wtype {
        DType::F16 => ("handwritten_a16w16", group / 2, F16_BODY),
        U4 => ("handwritten_a16w4", group / 8, U4_BODY),
        other => {
            return Err(unsupported(format!(
                "exists for f16 and u4 weights, not {other}"
            )))
        }
    };
    let words_per_col = match plan.wtype {
        DType::F16 => k / 2,
        _ => k / 8,
    };
    let source = format!(
        "{HEADER}
const WORDS_PER_GROUP: u32 = {words_per_group}u;
const WORDS_PER_COL: u32 = {words_per_col}u;

@compute @workgroup_size(64, 1, 1)
fn {name}(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let n = scalars[1];
    let k = scalars[2];
    let col = gid.x * 2u;
    let row = gid.y;
    if col >= n {{
        return;
    }}
    let arow = row * (k / 2u);
    let b0 = col * WORDS_PER_COL;
    let b1 = b0 + WORDS_PER_COL;
    var acc = vec2<f32>(0.0, 0.0);
    let groups = WORDS_PER_COL / WORDS_PER_GROUP;
    for (var g = 0u; g < groups; g++) {{
        var s0 = 0.0f;
        var s1 = 0.0f;
        for (var w = g * WORDS_PER_GROUP; w < (g + 1u) * WORDS_PER_GROUP; w++) {{
{body}
        }}
        let sc = unpack2x16float(scales[(g * n + col) / 2u]);
        acc += vec2<f32>(s0, s1) * sc;
    }}
    c[(row * n + col) / 2u] = pack2x16float(acc);
}}
"
    );
    let buffer = |param: usize, dtype: DType, binding: u32, read_only: bool| ParamBinding::Buffer {
        param,
        dtype,
        binding,
        read_only,
    };
    let scalar = |param: usize, word: u32| ParamBinding::Scalar {
        param,
        dtype: DType::Int {
            bits: 32,
            signed: true,
        },
        word,
    };
    Ok(Artifact::wgsl_by_hand(
        name,
        source,
        LaunchContract {
            threads: [64, 1, 1],
            params: vec![
                scalar(0, 0),
                scalar(1, 1),
                scalar(2, 2),
                buffer(3, DType::F16, 0, true),
                buffer(4, U32, 1, true),
                buffer(5, DType::F16, 2, true),
                buffer(6, DType::F16, 3, false),
            ],
            scalars_binding: 4,
            scalar_words: 3,
            workspaces: Vec::new(),
            grid: vec![
                GridExpr::CeilDiv(
                    Box::new(GridExpr::Param(1)),
                    Box::new(GridExpr::Const(COLS)),
                ),
                GridExpr::Param(0),
            ],
            shared_bytes: 0,
            assumptions: Vec::new(),
        },
    ))
}

const HEADER: &str = "// A hand-written baseline GEMV (tilus-kernels::handwritten).
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read_write> c: array<u32>;
@group(0) @binding(4) var<storage, read> scalars: array<u32>;";

/// One word of each of the two columns: two f16 weights against two activations.
const F16_BODY: &str = "            let x = unpack2x16float(a[arow + w]);
            let w0 = unpack2x16float(b[b0 + w]);
            let w1 = unpack2x16float(b[b1 + w]);
            s0 += dot(x, w0);
            s1 += dot(x, w1);";

/// One word of each of the two columns: eight u4 codes against eight activations.
const U4_BODY: &str = "            let x0 = unpack2x16float(a[arow + 4u * w]);
            let x1 = unpack2x16float(a[arow + 4u * w + 1u]);
            let x2 = unpack2x16float(a[arow + 4u * w + 2u]);
            let x3 = unpack2x16float(a[arow + 4u * w + 3u]);
            let xl = vec4<f32>(x0.x, x0.y, x1.x, x1.y);
            let xh = vec4<f32>(x2.x, x2.y, x3.x, x3.y);
            let q0 = b[b0 + w];
            let q1 = b[b1 + w];
            let sh = vec4<u32>(0u, 4u, 8u, 12u);
            let l0 = vec4<f32>((vec4<u32>(q0) >> sh) & vec4<u32>(15u)) - vec4<f32>(7.5);
            let h0 = vec4<f32>((vec4<u32>(q0 >> 16u) >> sh) & vec4<u32>(15u)) - vec4<f32>(7.5);
            let l1 = vec4<f32>((vec4<u32>(q1) >> sh) & vec4<u32>(15u)) - vec4<f32>(7.5);
            let h1 = vec4<f32>((vec4<u32>(q1 >> 16u) >> sh) & vec4<u32>(15u)) - vec4<f32>(7.5);
            s0 += dot(xl, l0) + dot(xh, h0);
            s1 += dot(xl, l1) + dot(xh, h1);";
