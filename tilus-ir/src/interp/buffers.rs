//! Host buffers (little-endian bit streams of any dtype), global views over them with
//! strides and slices, and masked tile access.

use crate::dtype::{pack, DType};

use super::error::{fail, InterpError, InterpErrorKind};

/// A buffer of `len` elements of `dtype`, stored as the packed little-endian bit stream of
/// spec/dtypes.md: element `i` occupies stream bits `[i*n, (i+1)*n)` (sub-byte elements may
/// straddle bytes). `bytes` holds at least `ceil(len * bits / 8)` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostBuffer {
    /// Element type.
    pub dtype: DType,
    /// Number of elements.
    pub len: usize,
    /// The packed bit stream.
    pub bytes: Vec<u8>,
}

impl HostBuffer {
    /// `len` zero codes (for every dtype, code 0 is the value 0).
    pub fn zeros(dtype: DType, len: usize) -> Self {
        HostBuffer {
            dtype,
            len,
            bytes: vec![0; pack::packed_len(dtype.bits(), len)],
        }
    }

    /// The buffer holding these codes (bits above the dtype's width are ignored).
    pub fn from_codes(dtype: DType, codes: &[u64]) -> Self {
        HostBuffer {
            dtype,
            len: codes.len(),
            bytes: pack::pack(dtype.bits(), codes),
        }
    }

    /// Encodes every value with [`DType::encode_f32`] (round to nearest even, saturation and
    /// NaN per the spec; integers like Rust `as`).
    pub fn from_f32(dtype: DType, xs: &[f32]) -> Self {
        let codes: Vec<u64> = xs.iter().map(|&x| dtype.encode_f32(x)).collect();
        Self::from_codes(dtype, &codes)
    }

    /// Encodes every value with [`DType::encode_f64`] (a single rounding).
    pub fn from_f64(dtype: DType, xs: &[f64]) -> Self {
        let codes: Vec<u64> = xs.iter().map(|&x| dtype.encode_f64(x)).collect();
        Self::from_codes(dtype, &codes)
    }

    /// The buffer of these integers. Integer dtypes are range-checked; float dtypes accept
    /// only integers they represent exactly. Errors are [`InterpErrorKind::BadArgument`].
    pub fn from_i64(dtype: DType, xs: &[i64]) -> Result<Self, InterpError> {
        let mut codes = Vec::with_capacity(xs.len());
        for (i, &v) in xs.iter().enumerate() {
            let code = if dtype.is_int() {
                dtype.code_of_int(v).map_err(|e| {
                    InterpError::new(InterpErrorKind::BadArgument, format!("element {i}: {e}"))
                })?
            } else {
                let c = dtype.encode_f64(v as f64);
                if dtype.decode_f64(c) != v as f64 || (v as f64) as i64 != v {
                    return fail(
                        InterpErrorKind::BadArgument,
                        format!("element {i}: {v} is not exactly representable in {dtype}"),
                    );
                }
                c
            };
            codes.push(code);
        }
        Ok(Self::from_codes(dtype, &codes))
    }

    /// Every code (0 for elements missing from a too-short `bytes`).
    pub fn codes(&self) -> Vec<u64> {
        (0..self.len).map(|i| self.get(i).unwrap_or(0)).collect()
    }

    /// Every value decoded to `f32` (exact for floats and for integers up to 24 bits).
    pub fn to_f32(&self) -> Vec<f32> {
        let codes = self.codes();
        let mut out = vec![0.0f32; codes.len()];
        // Same length by construction.
        let _ = self.dtype.decode_slice_f32(&codes, &mut out);
        out
    }

    /// Every value decoded to `f64`.
    pub fn to_f64(&self) -> Vec<f64> {
        self.codes()
            .into_iter()
            .map(|c| self.dtype.decode_f64(c))
            .collect()
    }

    /// Every value as an integer ([`DType::int_value`]: floats toward zero, saturating).
    pub fn to_i64(&self) -> Vec<i64> {
        self.codes()
            .into_iter()
            .map(|c| self.dtype.int_value(c))
            .collect()
    }

    /// The code of element `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<u64> {
        if i >= self.len {
            return None;
        }
        let bits = self.dtype.bits();
        if bits.is_multiple_of(8) && (8..=64).contains(&bits) {
            let nb = (bits / 8) as usize;
            let start = i.checked_mul(nb)?;
            let src = self.bytes.get(start..start + nb)?;
            let mut word = [0u8; 8];
            word[..nb].copy_from_slice(src);
            return Some(u64::from_le_bytes(word));
        }
        pack::try_get(bits, &self.bytes, i).ok()
    }

    /// Overwrites element `i` with `code` (bits above the dtype's width are ignored);
    /// [`InterpErrorKind::OutOfBounds`] past the end.
    pub fn set(&mut self, i: usize, code: u64) -> Result<(), InterpError> {
        if i >= self.len {
            return fail(
                InterpErrorKind::OutOfBounds,
                format!(
                    "index {i} out of bounds for a buffer of {} elements",
                    self.len
                ),
            );
        }
        let bits = self.dtype.bits();
        if bits.is_multiple_of(8) && (8..=64).contains(&bits) {
            let nb = (bits / 8) as usize;
            if let Some(dst) = i
                .checked_mul(nb)
                .and_then(|s| self.bytes.get_mut(s..s + nb))
            {
                dst.copy_from_slice(&code.to_le_bytes()[..nb]);
                return Ok(());
            }
        } else if pack::try_set(bits, &mut self.bytes, i, code).is_ok() {
            return Ok(());
        }
        fail(
            InterpErrorKind::OutOfBounds,
            format!(
                "element {i} lies outside the {} bytes of the buffer",
                self.bytes.len()
            ),
        )
    }

    /// Whether `bytes` is long enough for `len` elements.
    pub fn is_consistent(&self) -> bool {
        self.dtype.is_valid() && self.bytes.len() >= pack::packed_len(self.dtype.bits(), self.len)
    }

    /// Whether every element is code 0.
    pub fn is_all_zero(&self) -> bool {
        self.bytes.iter().all(|&b| b == 0)
    }
}

/// The global buffers of one launch: the pointer arguments, then the workspaces.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    /// The buffers.
    pub bufs: Vec<HostBuffer>,
    /// A name per buffer for messages (`` `a` `` or `workspace %ws`).
    pub names: Vec<String>,
}

impl Memory {
    /// Adds a buffer and returns its index.
    pub fn add(&mut self, buf: HostBuffer, name: String) -> usize {
        self.bufs.push(buf);
        self.names.push(name);
        self.bufs.len() - 1
    }

    fn name(&self, buf: usize) -> &str {
        self.names.get(buf).map_or("?", String::as_str)
    }
}

/// A global tensor at run time: a strided view of a buffer.
#[derive(Clone, Debug)]
pub(crate) struct GlobalRef {
    /// Index of the buffer in [`Memory::bufs`].
    pub buf: usize,
    /// Element offset of index (0, …, 0).
    pub base: i64,
    /// Extents.
    pub shape: Vec<i64>,
    /// Strides in elements.
    pub strides: Vec<i64>,
}

/// Row-major strides of `shape`, or `None` on overflow.
pub(crate) fn row_major_strides(shape: &[i64]) -> Option<Vec<i64>> {
    let mut strides = vec![0i64; shape.len()];
    let mut s: i64 = 1;
    for d in (0..shape.len()).rev() {
        strides[d] = s;
        s = s.checked_mul(shape[d].max(1))?;
    }
    Some(strides)
}

/// Which global dimension each tile dimension spans: `dims`, or the last `tile_rank`.
pub(crate) fn tile_dims(
    dims: Option<&[usize]>,
    global_rank: usize,
    tile_rank: usize,
) -> Result<Vec<usize>, InterpError> {
    let d: Vec<usize> = match dims {
        Some(d) => d.to_vec(),
        None => (global_rank.saturating_sub(tile_rank)..global_rank).collect(),
    };
    if d.len() != tile_rank || d.iter().any(|&x| x >= global_rank) {
        return fail(
            InterpErrorKind::InvalidProgram,
            format!("dims {d:?} do not fit a rank-{tile_rank} tile of a rank-{global_rank} tensor"),
        );
    }
    Ok(d)
}

/// A tile-shaped window of a global view: for each tile element (row-major), its global
/// index and whether it is inside the view's shape.
pub(crate) struct Window<'a> {
    g: &'a GlobalRef,
    offsets: &'a [i64],
    dims: Vec<usize>,
    tile_shape: &'a [usize],
}

impl<'a> Window<'a> {
    pub fn new(
        g: &'a GlobalRef,
        offsets: &'a [i64],
        dims: Option<&[usize]>,
        tile_shape: &'a [usize],
    ) -> Result<Self, InterpError> {
        if offsets.len() != g.shape.len() {
            return fail(
                InterpErrorKind::InvalidProgram,
                format!(
                    "{} offsets for a global tensor of rank {}",
                    offsets.len(),
                    g.shape.len()
                ),
            );
        }
        let dims = tile_dims(dims, g.shape.len(), tile_shape.len())?;
        Ok(Window {
            g,
            offsets,
            dims,
            tile_shape,
        })
    }

    /// Calls `f(flat, offset)` for every tile element in row-major order: `offset` is the
    /// buffer element offset when the element is inside the view's shape, else `None`.
    pub fn for_each(
        &self,
        mut f: impl FnMut(usize, Option<i128>) -> Result<(), InterpError>,
    ) -> Result<(), InterpError> {
        let g = self.g;
        let rank = g.shape.len();
        let in_dim = |d: usize, i: i128| i >= 0 && i < i128::from(g.shape[d]);
        // Dimensions the tile does not span are fixed at their offset.
        let fixed_ok = (0..rank)
            .filter(|d| !self.dims.contains(d))
            .all(|d| in_dim(d, i128::from(self.offsets[d])));
        let mut off: i128 = i128::from(g.base)
            + (0..rank)
                .map(|d| i128::from(self.offsets[d]) * i128::from(g.strides[d]))
                .sum::<i128>();
        let trank = self.tile_shape.len();
        let valid = |k: usize, j: usize| {
            let d = self.dims[k];
            in_dim(d, i128::from(self.offsets[d]) + j as i128)
        };
        let mut idx = vec![0usize; trank];
        let mut invalid = (0..trank).filter(|&k| !valid(k, 0)).count();
        let n: usize = self.tile_shape.iter().product();
        for flat in 0..n {
            f(flat, (fixed_ok && invalid == 0).then_some(off))?;
            let mut k = trank;
            while k > 0 {
                k -= 1;
                let s = i128::from(g.strides[self.dims[k]]);
                let was = valid(k, idx[k]);
                idx[k] += 1;
                off += s;
                let wrapped = idx[k] == self.tile_shape[k];
                if wrapped {
                    off -= s * self.tile_shape[k] as i128;
                    idx[k] = 0;
                }
                let now = valid(k, idx[k]);
                match (was, now) {
                    (true, false) => invalid += 1,
                    (false, true) => invalid -= 1,
                    _ => {}
                }
                if !wrapped {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The global index of tile element `flat` (for messages).
    pub fn global_index(&self, flat: usize) -> Vec<i64> {
        let mut idx: Vec<i64> = self.offsets.to_vec();
        let mut rest = flat;
        for k in (0..self.tile_shape.len()).rev() {
            let e = self.tile_shape[k].max(1);
            idx[self.dims[k]] += (rest % e) as i64;
            rest /= e;
        }
        idx
    }
}

/// The error for an access inside a view's shape but outside its buffer.
pub(crate) fn lying_view(
    mem: &Memory,
    buf: usize,
    what: &str,
    index: &[i64],
    off: i128,
) -> InterpError {
    let len = mem.bufs.get(buf).map_or(0, |b| b.len);
    InterpError::new(
        InterpErrorKind::OutOfBounds,
        format!(
            "{what} element {index:?} of the view is at offset {off} of buffer {}, which has \
             {len} elements (the view's shape or strides do not fit its buffer)",
            mem.name(buf)
        ),
    )
}

/// Checks that `off` is inside buffer `buf` and returns it as an index.
pub(crate) fn check_offset(mem: &Memory, buf: usize, off: i128) -> Option<usize> {
    let len = mem.bufs.get(buf)?.len;
    usize::try_from(off).ok().filter(|&o| o < len)
}

/// Reads a tile through a window: out-of-shape elements read as code 0.
pub(crate) fn read_window(mem: &Memory, w: &Window<'_>) -> Result<Vec<u64>, InterpError> {
    let n: usize = w.tile_shape.iter().product();
    let mut out = vec![0u64; n];
    let buf = w.g.buf;
    w.for_each(|flat, off| {
        if let Some(off) = off {
            let i = check_offset(mem, buf, off)
                .ok_or_else(|| lying_view(mem, buf, "read of", &w.global_index(flat), off))?;
            out[flat] = mem.bufs.get(buf).and_then(|b| b.get(i)).unwrap_or(0);
        }
        Ok(())
    })?;
    Ok(out)
}

/// Writes a tile through a window: out-of-shape elements are dropped.
pub(crate) fn write_window(
    mem: &mut Memory,
    w: &Window<'_>,
    codes: &[u64],
) -> Result<(), InterpError> {
    let buf = w.g.buf;
    let mut writes: Vec<(usize, u64)> = Vec::with_capacity(codes.len());
    w.for_each(|flat, off| {
        if let Some(off) = off {
            let i = check_offset(mem, buf, off)
                .ok_or_else(|| lying_view(mem, buf, "write of", &w.global_index(flat), off))?;
            writes.push((i, codes.get(flat).copied().unwrap_or(0)));
        }
        Ok(())
    })?;
    if let Some(b) = mem.bufs.get_mut(buf) {
        for (i, c) in writes {
            b.set(i, c)?;
        }
    }
    Ok(())
}

/// The buffer offset of one element (`index` must be inside the shape: an error otherwise,
/// as for semaphores and slices, which are not masked).
pub(crate) fn element_offset(
    mem: &Memory,
    g: &GlobalRef,
    index: &[i64],
    what: &str,
) -> Result<usize, InterpError> {
    if index.len() != g.shape.len() {
        return fail(
            InterpErrorKind::InvalidProgram,
            format!(
                "{} indices for a tensor of rank {}",
                index.len(),
                g.shape.len()
            ),
        );
    }
    if let Some(d) = (0..index.len()).find(|&d| index[d] < 0 || index[d] >= g.shape[d]) {
        return fail(
            InterpErrorKind::OutOfBounds,
            format!(
                "{what} index {index:?} is outside the tensor's shape {:?} (dimension {d})",
                g.shape
            ),
        );
    }
    let off = i128::from(g.base)
        + index
            .iter()
            .zip(&g.strides)
            .map(|(&i, &s)| i128::from(i) * i128::from(s))
            .sum::<i128>();
    check_offset(mem, g.buf, off).ok_or_else(|| lying_view(mem, g.buf, what, index, off))
}
