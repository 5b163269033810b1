//! Tile values: register tiles and shared allocations hold element codes of their dtype in
//! row-major order (layouts do not change what a tile means, only where it lives), with
//! helpers to decode and encode whole tiles at once.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::dtype::DType;
use crate::program::InstId;

use super::buffers::GlobalRef;
use super::error::{fail, InterpError, InterpErrorKind};
use super::race::RaceState;

/// Number of elements of a shape.
pub(crate) fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// A register tile: codes in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RegTile {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<usize>,
    /// One code per element, row-major.
    pub codes: Vec<u64>,
}

impl RegTile {
    /// A tile with every element `code`.
    pub fn filled(dtype: DType, shape: &[usize], code: u64) -> Self {
        RegTile {
            dtype,
            shape: shape.to_vec(),
            codes: vec![code; numel(shape)],
        }
    }

    /// Every element decoded to `f32` (exact for every float dtype).
    pub fn decode_f32(&self) -> Vec<f32> {
        decode_f32(self.dtype, &self.codes)
    }
}

/// Decodes codes to `f32` in bulk.
pub(crate) fn decode_f32(dtype: DType, codes: &[u64]) -> Vec<f32> {
    let mut out = vec![0.0f32; codes.len()];
    // Same length by construction, so this cannot fail.
    let _ = dtype.decode_slice_f32(codes, &mut out);
    out
}

/// Encodes `f32` values in bulk (round to nearest even, spec rules for overflow and NaN).
pub(crate) fn encode_f32(dtype: DType, xs: &[f32]) -> Vec<u64> {
    let mut out = vec![0u64; xs.len()];
    // Same length by construction, so this cannot fail.
    let _ = dtype.encode_slice_f32(xs, &mut out);
    out
}

/// Decodes codes to `f64` in bulk.
pub(crate) fn decode_f64(dtype: DType, codes: &[u64]) -> Vec<f64> {
    if dtype.bits() <= 8 {
        let lut = dtype.decode_table_f32();
        return codes
            .iter()
            .map(|&c| f64::from(lut[(c & 0xFF) as usize]))
            .collect();
    }
    codes.iter().map(|&c| dtype.decode_f64(c)).collect()
}

/// Integer values of codes in bulk (sign- or zero-extended; `u64` as its bits).
pub(crate) fn int_values(dtype: DType, codes: &[u64]) -> Vec<i64> {
    codes.iter().map(|&c| dtype.int_value(c)).collect()
}

/// The codes of a tile of `shape` broadcast (NumPy rules) to `out`: borrowed when the
/// shapes are equal. The caller has checked that the shapes broadcast.
pub(crate) fn broadcast<'a>(
    codes: &'a [u64],
    shape: &[usize],
    out: &[usize],
) -> Result<Cow<'a, [u64]>, InterpError> {
    if shape == out {
        return Ok(Cow::Borrowed(codes));
    }
    let rank = out.len();
    if shape.len() > rank {
        return fail(
            InterpErrorKind::InvalidProgram,
            format!("shape {shape:?} does not broadcast to {out:?}"),
        );
    }
    // Strides of the source in the output's rank; 0 for broadcast dimensions.
    let lead = rank - shape.len();
    let mut strides = vec![0usize; rank];
    let mut s = 1usize;
    for d in (0..shape.len()).rev() {
        let od = d + lead;
        if shape[d] == out[od] {
            strides[od] = s;
        } else if shape[d] != 1 {
            return fail(
                InterpErrorKind::InvalidProgram,
                format!("shape {shape:?} does not broadcast to {out:?}"),
            );
        }
        s *= shape[d];
    }
    let n = numel(out);
    let mut result = Vec::with_capacity(n);
    let mut idx = vec![0usize; rank];
    let mut src = 0usize;
    for _ in 0..n {
        result.push(codes.get(src).copied().unwrap_or(0));
        let mut k = rank;
        while k > 0 {
            k -= 1;
            idx[k] += 1;
            src += strides[k];
            if idx[k] < out[k] {
                break;
            }
            src -= strides[k] * out[k];
            idx[k] = 0;
        }
    }
    Ok(Cow::Owned(result))
}

/// A shared allocation of one block: its codes, row-major over its full shape.
#[derive(Clone, Debug)]
pub(crate) struct SharedAlloc {
    /// Element type.
    pub dtype: DType,
    /// The codes.
    pub data: Vec<u64>,
    /// The tensor that allocated it (`%name`, for messages).
    pub name: String,
    /// The `free_shared` that released it.
    pub freed: Option<InstId>,
    /// Accesses since the last `sync`, for race detection.
    pub race: RaceState,
}

/// A shared tensor at run time: a contiguous region (fixed leading indices) of an allocation.
#[derive(Clone, Debug)]
pub(crate) struct SharedRef {
    /// Index of the allocation in the block's list.
    pub alloc: usize,
    /// First element of the region.
    pub base: usize,
    /// Shape of the region.
    pub shape: Vec<usize>,
}

impl SharedRef {
    /// The element range `[lo, hi)` of the region.
    pub fn range(&self) -> (usize, usize) {
        (self.base, self.base + numel(&self.shape))
    }
}

/// The value of a tensor in a block.
#[derive(Clone, Debug)]
pub(crate) enum TensorVal {
    /// A register tile.
    Reg(RegTile),
    /// A shared tensor (a region of an allocation).
    Shared(SharedRef),
    /// A global view.
    Global(GlobalRef),
}

const PRINT_LIMIT: usize = 4096;

fn format_code(dtype: DType, code: u64) -> String {
    if dtype.is_int() {
        dtype.int_value_i128(code).to_string()
    } else {
        format!("{}", dtype.decode_f32(code))
    }
}

/// Formats a row-major array as nested brackets (at most 4096 elements are shown).
pub(crate) fn format_codes(dtype: DType, shape: &[usize], codes: &[u64]) -> String {
    let mut s = String::new();
    let n = codes.len().min(PRINT_LIMIT);
    let rank = shape.len();
    // Extent products from each dimension inward, to know where brackets open and close.
    let mut inner = vec![1usize; rank + 1];
    for d in (0..rank).rev() {
        inner[d] = inner[d + 1] * shape[d].max(1);
    }
    for (i, &code) in codes.iter().take(n).enumerate() {
        let opens = (0..rank).filter(|&d| i % inner[d] == 0).count();
        if i > 0 && opens > 0 {
            s.push_str(",\n");
            s.push_str(&" ".repeat(rank - opens));
        } else if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&"[".repeat(opens));
        s.push_str(&format_code(dtype, code));
        let closes = (0..rank).filter(|&d| (i + 1) % inner[d] == 0).count();
        s.push_str(&"]".repeat(closes));
    }
    if n < codes.len() {
        let _ = write!(s, " … ({} more elements)", codes.len() - n);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rows_and_columns() {
        let col = [1u64, 2];
        let b = broadcast(&col, &[2, 1], &[2, 3]).ok();
        assert_eq!(b.as_deref(), Some(&[1u64, 1, 1, 2, 2, 2][..]));
        let row = [7u64, 8, 9];
        let b = broadcast(&row, &[3], &[2, 3]).ok();
        assert_eq!(b.as_deref(), Some(&[7u64, 8, 9, 7, 8, 9][..]));
        assert!(broadcast(&row, &[3], &[2, 4]).is_err());
    }

    #[test]
    fn formats_nested() {
        let u8t = DType::Int {
            bits: 8,
            signed: false,
        };
        assert_eq!(
            format_codes(u8t, &[2, 2], &[1, 2, 3, 4]),
            "[[1, 2],\n [3, 4]]"
        );
    }
}
