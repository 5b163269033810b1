//! Probes of the adapter's native `f16` conversions, run once when the device is created.
//!
//! WGSL leaves the rounding of `pack2x16float` and the treatment of subnormals and NaN by
//! `unpack2x16float` to the implementation, so code generation uses them only where this
//! probe saw them agree bit for bit with the thread IR's definitions:
//!
//! - **decode** (`unpack2x16float`): every one of the 65536 `f16` codes against `half`'s
//!   conversion (exact value, NaN quieted with its payload kept), which is what the thread
//!   IR's `f16 → f32` cast means;
//! - **encode** (`pack2x16float`): `f32` values of every class (halfway cases at every
//!   exponent, the subnormal range and its ties, the overflow threshold, infinities, NaNs
//!   with payloads, signed zeros) plus 2^20 random bit patterns spread over the `f16`
//!   range, against round to nearest even with overflow to infinity (`half`).
//!
//! The result is part of [`DeviceInfo`](crate::DeviceInfo) and is printed in the device line.

use tilus_ir::dtype::DType;
use tilus_lower::artifact::{Artifact, GridExpr, LaunchContract, ParamBinding};
use tilus_lower::target::NativeF16;

use crate::device::{Device, Kernel, LaunchArg};
use crate::error::RuntimeError;

const U32: DType = DType::Int {
    bits: 32,
    signed: false,
};
const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};

/// A kernel `out[i] = f(inp[i])` over `u32` words, 64 threads per workgroup.
fn map_kernel(name: &str, body: &str) -> Artifact {
    let source = format!(
        "@group(0) @binding(0) var<storage, read> inp: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> scalars: array<u32>;

@compute @workgroup_size(64, 1, 1)
fn {name}(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {{
    let i = gid.x + gid.y * nwg.x * 64u;
    if i >= scalars[0] {{
        return;
    }}
    let x = inp[i];
    out[i] = {body};
}}
"
    );
    Artifact::wgsl_by_hand(
        name,
        source,
        LaunchContract {
            threads: [64, 1, 1],
            params: vec![
                ParamBinding::Scalar {
                    param: 0,
                    dtype: I32,
                    word: 0,
                },
                ParamBinding::Buffer {
                    param: 1,
                    dtype: U32,
                    binding: 0,
                    read_only: true,
                },
                ParamBinding::Buffer {
                    param: 2,
                    dtype: U32,
                    binding: 1,
                    read_only: false,
                },
            ],
            scalars_binding: 2,
            scalar_words: 1,
            workspaces: Vec::new(),
            // 1024 workgroups per row of the grid, as many rows as needed.
            grid: vec![
                GridExpr::Min(
                    Box::new(GridExpr::CeilDiv(
                        Box::new(GridExpr::Param(0)),
                        Box::new(GridExpr::Const(64)),
                    )),
                    Box::new(GridExpr::Const(1024)),
                ),
                GridExpr::CeilDiv(
                    Box::new(GridExpr::Param(0)),
                    Box::new(GridExpr::Const(64 * 1024)),
                ),
            ],
            shared_bytes: 0,
            assumptions: Vec::new(),
        },
    )
}

/// Runs `body` on every word of `inputs` on the device.
fn run_map(
    dev: &mut dyn Device,
    name: &str,
    body: &str,
    inputs: &[u32],
) -> Result<Vec<u32>, RuntimeError> {
    let kernel = Kernel::Compiled(map_kernel(name, body));
    let bytes: Vec<u8> = inputs.iter().flat_map(|w| w.to_le_bytes()).collect();
    let inp = dev.allocate_with(&bytes)?;
    let out = dev.allocate(bytes.len())?;
    let len = i64::try_from(inputs.len()).unwrap_or(i64::MAX);
    let run = dev
        .launch(
            &kernel,
            &[
                LaunchArg::Int(len),
                LaunchArg::Buffer(inp),
                LaunchArg::Buffer(out),
            ],
        )
        .and_then(|()| dev.download(out));
    dev.free(inp)?;
    dev.free(out)?;
    Ok(run?
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// The decode probe's inputs: two codes per word, all 65536 codes.
fn decode_inputs() -> Vec<u32> {
    (0..32768u32)
        .map(|i| (2 * i) | ((2 * i + 1) << 16))
        .collect()
}

/// `f32` bit patterns of every class, then pseudo-random ones over the `f16` range.
fn encode_inputs() -> Vec<u32> {
    let mut v = Vec::new();
    for code in 0..=0xffffu32 {
        let x = half::f16::from_bits(code as u16).to_f32();
        let b = x.to_bits();
        v.push(b);
        if x.is_finite() {
            // The value, the halfway points to both neighbours and just around them.
            let next = half::f16::from_bits((code as u16).wrapping_add(1)).to_f32();
            if next.is_finite() && next.is_sign_negative() == x.is_sign_negative() {
                let mid = ((f64::from(x) + f64::from(next)) / 2.0) as f32;
                v.extend([mid.to_bits(), mid.to_bits() + 1, mid.to_bits() - 1]);
            }
        }
    }
    // Overflow threshold (65520 rounds to infinity), the largest finite, huge values.
    for x in [65504.0f32, 65519.99, 65520.0, 65536.0, 1e10, f32::MAX] {
        v.extend([x.to_bits(), (-x).to_bits()]);
    }
    // Below half the smallest subnormal, and at it.
    for x in [2f32.powi(-25), 2f32.powi(-26), 1e-30, f32::MIN_POSITIVE] {
        v.extend([x.to_bits(), (-x).to_bits()]);
    }
    // NaNs with payloads, infinities.
    v.extend([
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0000,
        0x7f80_0001,
        0xffc0_1234,
        0x7fbf_ffff,
    ]);
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..(1 << 20) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        // Exponents 100..=150 cover the f16 subnormals to beyond the largest f16.
        let exp = 100 + (s >> 32) as u32 % 51;
        let bits = ((s as u32) & 0x807f_ffff) | (exp << 23);
        v.push(bits);
    }
    v
}

/// Probes the device (see the module documentation). A probe that cannot run counts as
/// "not proven": native code is then not used.
pub(super) fn probe_f16(dev: &mut dyn Device) -> NativeF16 {
    let decode = run_map(
        dev,
        "probe_unpack2x16float",
        "bitcast<u32>(unpack2x16float(x)[i & 1u])",
        &decode_inputs()
            .into_iter()
            .flat_map(|w| [w, w])
            .collect::<Vec<_>>(),
    )
    .ok()
    .is_some_and(|got| {
        got.len() == 65536
            && got
                .iter()
                .enumerate()
                .all(|(code, &bits)| bits == half::f16::from_bits(code as u16).to_f32().to_bits())
    });
    let inputs = encode_inputs();
    let encode = run_map(
        dev,
        "probe_pack2x16float",
        "pack2x16float(vec2<f32>(bitcast<f32>(x), 0.0)) & 0xffffu",
        &inputs,
    )
    .ok()
    .is_some_and(|got| {
        got.len() == inputs.len()
            && got.iter().zip(&inputs).all(|(&code, &x)| {
                code == u32::from(half::f16::from_f32(f32::from_bits(x)).to_bits())
            })
    });
    NativeF16 { decode, encode }
}
