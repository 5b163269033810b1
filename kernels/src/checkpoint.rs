//! Importing GPTQ and AWQ layers from safetensors checkpoints, repacked into our format at
//! load time ([`Quantized`]: `[N, K]` codes, `[G, N]` scales and integer zero points,
//! asymmetric mode, `w = (q − z)·s`).
//!
//! - **GPTQ**: `qweight` int32 `[K·b/32, N]`, packed along K (bits `b·j..` of word `i` hold
//!   row `32/b·i + j`); `qzeros` int32 `[G, N·b/32]`, packed along N, storing `z − 1`;
//!   `scales` f16 `[G, N]`; optional `g_idx` int32 `[K]` (act order: the group of each input
//!   row). When `g_idx` is not the plain `k / (K/G)`, the rows are sorted by group (stably)
//!   and the layer records the permutation: the input's columns must be gathered in that
//!   order ([`ImportedLayer::perm`]).
//! - **AWQ**: `qweight` int32 `[K, N·b/32]`, packed along N in the interleaved order
//!   `[0, 2, 4, 6, 1, 3, 5, 7]` (logical column `j` of a word in nibble
//!   `[0, 4, 1, 5, 2, 6, 3, 7][j]`); `qzeros` int32 `[G, N·b/32]` the same way, true zero
//!   points; `scales` f16 `[G, N]`. 4-bit only (the interleave is defined for 8 per word).
//!
//! The width `b` follows from the shapes (2, 4 or 8 bits for GPTQ; GPTQ's 3-bit packing
//! across words is not supported); every tensor is checked for presence, dtype and shape,
//! and an error names the tensor and the expected shape.

use std::path::Path;

use safetensors::{Dtype, SafeTensors};
use tilus_ir::dtype::DType;

use crate::config::{GroupSize, QuantMode};
use crate::error::{KernelError, Result};
use crate::quant::Quantized;

/// The checkpoint's quantization format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// AutoGPTQ / GPTQ-for-LLaMa.
    Gptq,
    /// AutoAWQ (GEMM layout).
    Awq,
}

/// A layer read from a checkpoint.
#[derive(Clone, Debug)]
pub struct ImportedLayer {
    /// The weights in our format (f16 activations).
    pub q: Quantized,
    /// For act-order GPTQ: row `i` of our `K` is input column `perm[i]`.
    pub perm: Option<Vec<usize>>,
    /// Bits per weight.
    pub bits: u32,
}

fn bad(tensor: &str, message: impl Into<String>) -> KernelError {
    KernelError::Checkpoint {
        tensor: tensor.to_string(),
        message: message.into(),
    }
}

/// A tensor's data as little-endian words of its dtype, checked against `dtype` and `rank`.
fn tensor<'a>(
    st: &'a SafeTensors<'a>,
    name: &str,
    dtype: Dtype,
    rank: usize,
) -> Result<(Vec<usize>, &'a [u8])> {
    let t = st
        .tensor(name)
        .map_err(|_| bad(name, "missing from the checkpoint"))?;
    if t.dtype() != dtype {
        return Err(bad(
            name,
            format!("dtype {:?}, expected {dtype:?}", t.dtype()),
        ));
    }
    if t.shape().len() != rank {
        return Err(bad(
            name,
            format!("shape {:?}, expected rank {rank}", t.shape()),
        ));
    }
    Ok((t.shape().to_vec(), t.data()))
}

fn i32s(data: &[u8]) -> Vec<u32> {
    data.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn f16s(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(2)
        .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
        .collect()
}

fn expect_shape(name: &str, got: &[usize], want: &[usize]) -> Result<()> {
    if got != want {
        return Err(bad(name, format!("shape {got:?}, expected {want:?}")));
    }
    Ok(())
}

/// Reads layer `prefix` (`prefix.qweight`, …) of a safetensors file.
pub fn load_layer(path: &Path, prefix: &str, format: Format) -> Result<ImportedLayer> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| bad(&file, format!("cannot read: {e}")))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(&file, format!("not a safetensors file: {e}")))?;
    let name = |t: &str| format!("{prefix}.{t}");
    let (sshape, sdata) = tensor(&st, &name("scales"), Dtype::F16, 2)?;
    let (groups, n) = (sshape[0], sshape[1]);
    let scales = f16s(sdata);
    let (qshape, qdata) = tensor(&st, &name("qweight"), Dtype::I32, 2)?;
    let qweight = i32s(qdata);
    let (zshape, zdata) = tensor(&st, &name("qzeros"), Dtype::I32, 2)?;
    let qzeros = i32s(zdata);
    if groups == 0 || n == 0 {
        return Err(bad(&name("scales"), format!("shape {sshape:?} is empty")));
    }
    match format {
        Format::Gptq => {
            let g_idx = match st.tensor(&name("g_idx")) {
                Ok(_) => Some(tensor(&st, &name("g_idx"), Dtype::I32, 1)?),
                Err(_) => None,
            };
            expect_shape(&name("qweight"), &[qshape[0], qshape[1]], &[qshape[0], n])?;
            // K from g_idx when present, else from the packed rows at the width that makes
            // the zero-point shape agree.
            let bits = [2u32, 4, 8]
                .into_iter()
                .find(|&b| zshape[1] * (32 / b as usize) == n)
                .ok_or_else(|| {
                    bad(
                        &name("qzeros"),
                        format!(
                            "shape {zshape:?}: [G, N·b/32] for N = {n} and b in 2, 4, 8 (3-bit GPTQ is not supported)"
                        ),
                    )
                })?;
            let per = 32 / bits as usize;
            let k = qshape[0] * per;
            expect_shape(&name("qzeros"), &zshape, &[groups, n / per])?;
            if !k.is_multiple_of(groups) {
                return Err(bad(
                    &name("scales"),
                    format!("{groups} groups do not divide K = {k}"),
                ));
            }
            let gsize = k / groups;
            let mask = (1u32 << bits) - 1;
            let code = |kk: usize, nn: usize| {
                (qweight[(kk / per) * n + nn] >> (bits as usize * (kk % per))) & mask
            };
            let zero = |g: usize, nn: usize| {
                ((qzeros[g * (n / per) + nn / per] >> (bits as usize * (nn % per))) & mask) + 1
            };
            let g_of: Vec<usize> = match &g_idx {
                Some((shape, data)) => {
                    expect_shape(&name("g_idx"), shape, &[k])?;
                    let v: Vec<usize> = i32s(data).into_iter().map(|x| x as usize).collect();
                    if let Some(bad_g) = v.iter().find(|&&g| g >= groups) {
                        return Err(bad(&name("g_idx"), format!("group {bad_g} of {groups}")));
                    }
                    v
                }
                None => (0..k).map(|kk| kk / gsize).collect(),
            };
            // Rows sorted by group (stable): our contiguous groups.
            let mut perm: Vec<usize> = (0..k).collect();
            perm.sort_by_key(|&kk| g_of[kk]);
            for (i, &kk) in perm.iter().enumerate() {
                if g_of[kk] != i / gsize {
                    return Err(bad(
                        &name("g_idx"),
                        format!("groups must have {gsize} rows each (K = {k}, G = {groups})"),
                    ));
                }
            }
            let identity = perm.iter().enumerate().all(|(i, &p)| i == p);
            let mut codes = vec![0u64; n * k];
            for nn in 0..n {
                for (i, &kk) in perm.iter().enumerate() {
                    codes[nn * k + i] = u64::from(code(kk, nn));
                }
            }
            let mut zeros = vec![0f32; groups * n];
            for g in 0..groups {
                for nn in 0..n {
                    let z = zero(g, nn);
                    if z > mask {
                        return Err(bad(
                            &name("qzeros"),
                            format!("zero point {z} does not fit {bits} bits"),
                        ));
                    }
                    zeros[g * n + nn] = z as f32;
                }
            }
            Ok(ImportedLayer {
                q: quantized(bits, n, k, gsize, codes, scales, zeros),
                perm: (!identity).then_some(perm),
                bits,
            })
        }
        Format::Awq => {
            const ORDER: [usize; 8] = [0, 4, 1, 5, 2, 6, 3, 7];
            let k = qshape[0];
            expect_shape(&name("qweight"), &qshape, &[k, n / 8])?;
            if !n.is_multiple_of(8) {
                return Err(bad(
                    &name("scales"),
                    format!("N = {n} is not a multiple of 8"),
                ));
            }
            expect_shape(&name("qzeros"), &zshape, &[groups, n / 8])?;
            if !k.is_multiple_of(groups) {
                return Err(bad(
                    &name("scales"),
                    format!("{groups} groups do not divide K = {k}"),
                ));
            }
            let gsize = k / groups;
            let nib = |w: u32, j: usize| (w >> (4 * ORDER[j])) & 0xf;
            let mut codes = vec![0u64; n * k];
            for kk in 0..k {
                for nn in 0..n {
                    codes[nn * k + kk] = u64::from(nib(qweight[kk * (n / 8) + nn / 8], nn % 8));
                }
            }
            let mut zeros = vec![0f32; groups * n];
            for g in 0..groups {
                for nn in 0..n {
                    zeros[g * n + nn] = nib(qzeros[g * (n / 8) + nn / 8], nn % 8) as f32;
                }
            }
            Ok(ImportedLayer {
                q: quantized(4, n, k, gsize, codes, scales, zeros),
                perm: None,
                bits: 4,
            })
        }
    }
}

fn quantized(
    bits: u32,
    n: usize,
    k: usize,
    gsize: usize,
    codes: Vec<u64>,
    scales: Vec<f32>,
    zeros: Vec<f32>,
) -> Quantized {
    Quantized {
        wtype: DType::Int {
            bits: bits as u8,
            signed: false,
        },
        act: DType::F16,
        mode: QuantMode::Asymmetric,
        n,
        k,
        group: if gsize == k {
            GroupSize::PerChannel
        } else {
            GroupSize::Size(gsize)
        },
        codes,
        scales,
        zeros: Some(zeros),
    }
}

impl ImportedLayer {
    /// The input's columns in our order (`x [m, K]` row-major): unchanged without act order.
    pub fn permute_input(&self, x: &[f32], m: usize) -> Vec<f32> {
        let k = self.q.k;
        match &self.perm {
            None => x.to_vec(),
            Some(p) => {
                let mut out = vec![0f32; x.len()];
                for r in 0..m {
                    for (i, &src) in p.iter().enumerate() {
                        if let (Some(o), Some(v)) = (out.get_mut(r * k + i), x.get(r * k + src)) {
                            *o = *v;
                        }
                    }
                }
                out
            }
        }
    }
}
