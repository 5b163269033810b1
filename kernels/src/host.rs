//! Host-side references and error measures for the GEMM kernels.

use tilus_ir::dtype::DType;

/// `x` rounded to `dtype` (round to nearest even), as `f64`.
pub fn round_to(dtype: DType, x: &[f32]) -> Vec<f64> {
    x.iter()
        .map(|&v| dtype.decode_f64(dtype.encode_f32(v)))
        .collect()
}

/// `C[m, n] = Σ_k a[m, k] · w[n, k]` in `f64`: `a` is `[M, K]` row-major (already rounded
/// to the activation dtype, see [`round_to`]), `w` the `[N, K]` row-major dequantized
/// weights ([`crate::quant::dequantize`]). Returns `[M, N]` row-major. Short inputs count
/// as zeros.
pub fn reference_gemm(m: usize, n: usize, k: usize, a: &[f64], w_deq: &[f64]) -> Vec<f64> {
    let mut c = vec![0f64; m * n];
    for i in 0..m {
        let Some(ar) = a.get(i * k..(i + 1) * k) else {
            continue;
        };
        for j in 0..n {
            let Some(wr) = w_deq.get(j * k..(j + 1) * k) else {
                continue;
            };
            c[i * n + j] = ar.iter().zip(wr).map(|(x, y)| x * y).sum();
        }
    }
    c
}

/// Relative errors of a GEMM result.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct ErrorStats {
    /// The largest relative error.
    pub max_rel: f64,
    /// The mean relative error.
    pub mean_rel: f64,
    /// Where the largest one is (`i·N + j`).
    pub argmax: usize,
}

/// Relative errors `|c_ij − ref_ij| / (Σ_k |a_ik|·|w_jk| + tiny)`, robust to cancellation
/// (the denominator is what floating-point error bounds scale with). `a` is `[M, K]`,
/// `w_deq` is `[N, K]` (as for [`reference_gemm`]), `c` and `reference` are `[M, N]`;
/// `tiny` is the smallest normal of `act`. A NaN in `c` gives an infinite error.
#[allow(clippy::too_many_arguments)]
pub fn error_stats(
    m: usize,
    n: usize,
    k: usize,
    c: &[f32],
    reference: &[f64],
    a: &[f64],
    w_deq: &[f64],
    act: DType,
) -> ErrorStats {
    let tiny = act.smallest_normal().unwrap_or(f64::MIN_POSITIVE);
    let mut stats = ErrorStats::default();
    let mut sum = 0.0;
    for i in 0..m {
        for j in 0..n {
            let idx = i * n + j;
            let mag: f64 = match (a.get(i * k..(i + 1) * k), w_deq.get(j * k..(j + 1) * k)) {
                (Some(ar), Some(wr)) => ar.iter().zip(wr).map(|(x, y)| (x * y).abs()).sum(),
                _ => 0.0,
            };
            let got = c.get(idx).copied().map_or(f64::NAN, f64::from);
            let want = reference.get(idx).copied().unwrap_or(0.0);
            let err = (got - want).abs();
            let rel = if err.is_nan() {
                f64::INFINITY
            } else {
                err / (mag + tiny)
            };
            sum += rel;
            if rel > stats.max_rel || (rel.is_infinite() && stats.max_rel.is_finite()) {
                stats.max_rel = rel;
                stats.argmax = idx;
            }
        }
    }
    stats.mean_rel = if m * n > 0 { sum / (m * n) as f64 } else { 0.0 };
    stats
}

/// The unit roundoff exponent `p` of an activation dtype (`2^−p` = half an ulp at 1):
/// 11 for `f16`, 8 for `bf16`, 24 for `f32`.
pub fn precision_bits(act: DType) -> i32 {
    act.mantissa_bits().map_or(24, |m| m as i32 + 1)
}

/// The documented bound on [`error_stats`]'s `max_rel` for the a16wX GEMM with reduction
/// length `k`: `2 · (2^−p + 2^−p + k·2^−24)` (dequantized-weight rounding, output rounding,
/// `f32` accumulation; safety factor 2). See the crate documentation.
pub fn error_bound(act: DType, k: usize) -> f64 {
    let u = 2f64.powi(-precision_bits(act));
    2.0 * (2.0 * u + k as f64 * 2f64.powi(-24))
}

/// The documented bound on [`error_stats`]'s `max_rel` for the SIMT a16wX GEMM
/// ([`crate::simt`]): `2 · (2^−p + (k + 2)·2^−24)`. The dequantized weight is never rounded
/// (every `a·(q − z)` is exact in `f32`); what rounds is the output (`2^−p`), the `f32`
/// partial sums (`k·2^−24` in all), the product by the scale and the reduction of the
/// partials (`2·2^−24`); safety factor 2. It is one `2^−p` term below [`error_bound`].
pub fn simt_error_bound(act: DType, k: usize) -> f64 {
    let u = 2f64.powi(-precision_bits(act));
    2.0 * (u + (k as f64 + 2.0) * 2f64.powi(-24))
}

/// The bound for the plain GEMM with operands and output of `dtype` (inputs exact in the
/// dtype): `2 · (2^−p + (k + 1)·2^−24)` (output rounding, products and accumulation in
/// `f32`; for `f16`/`bf16` the products are exact, the extra term only adds margin).
pub fn gemm_error_bound(dtype: DType, k: usize) -> f64 {
    let u = 2f64.powi(-precision_bits(dtype));
    2.0 * (u + (k as f64 + 1.0) * 2f64.powi(-24))
}
