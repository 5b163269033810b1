//! Shared-memory layouts: an affine map from a tile index to an element offset, followed
//! by an optional CuTe-style swizzle (`spec/layouts.md`, "Shared-memory layouts";
//! `reference/tilus.md` §2.6).
//!
//! A [`SharedLayout`] has a `shape`; each dimension is factored, most significant first,
//! into modes (`mode_shape`, grouped by dimension in order), and every mode has a stride.
//! The offset of an index is `Σ mode_index · stride`, then the swizzle is applied to that
//! *element* offset. Equality and hashing are on the canonical form: size-1 modes dropped
//! and adjacent modes of a dimension merged when their strides chain
//! (`stride[i] == stride[i+1] · size[i+1]`); a swizzle with `bits == 0` is no swizzle.
//!
//! # Text syntax
//!
//! Used by `tilus layout --shared "<expr>"`; [`parse_shared_layout`] reads it and
//! [`fmt::Display`] writes it back (`parse(print(x)) == x`):
//!
//! ```text
//! shared   := base ['.swizzle(' int ',' int ',' int ')']      base, bits, shift
//! base     := 'row_major(' int (',' int)* ')'
//!           | 'column_major(' int (',' int)* ')'
//!           | 'strided(' 'shape=' list ',' 'strides=' list ')'  one stride per dimension
//!           | 'shared_layout(' 'shape=' list ',' 'modes=' list ',' 'strides=' list ')'
//! ```
//!
//! Examples: `row_major(8,64).swizzle(3,3,3)`, `column_major(16,8)`,
//! `strided(shape=[8,64], strides=[64,1])`,
//! `shared_layout(shape=[16,8], modes=[2,8,8], strides=[8,128,1])`. The printer uses the
//! first of `row_major`, `column_major`, `strided`, `shared_layout` that describes the
//! layout. Whitespace is allowed between tokens and errors carry a caret column like
//! register-layout expressions ([`LayoutParseError`]).

use std::fmt;

use super::text::lexer::{Cursor, Tok, MAX_LAYOUT_SIZE};
use super::text::LayoutParseError;

/// Errors of shared-layout construction and indexing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SharedLayoutError {
    /// A dimension or mode of size zero.
    #[error("{what} must be at least 1")]
    ZeroSize {
        /// Which list held the zero.
        what: &'static str,
    },
    /// Two lists that must have the same length do not.
    #[error("{what}: expected {expected} entries, found {found}")]
    LengthMismatch {
        /// Which lists.
        what: &'static str,
        /// The required length.
        expected: usize,
        /// The given length.
        found: usize,
    },
    /// The modes do not factor the shape dimension by dimension.
    #[error("modes {modes:?} do not factor shape {shape:?} (each dimension's modes, in order, must multiply to its extent)")]
    ModesDoNotFactorShape {
        /// The shape.
        shape: Vec<usize>,
        /// The mode sizes.
        modes: Vec<usize>,
    },
    /// The layout is larger than [`MAX_LAYOUT_SIZE`] elements or its offsets overflow.
    #[error("layout too large: {0}")]
    TooLarge(String),
    /// An index of the wrong rank.
    #[error("index has rank {found}, layout has rank {expected}")]
    RankMismatch {
        /// Rank of the layout.
        expected: usize,
        /// Rank of the index.
        found: usize,
    },
    /// An index outside the shape.
    #[error("index {index} is out of bounds for dimension {dim} of extent {extent}")]
    IndexOutOfBounds {
        /// The dimension.
        dim: usize,
        /// The offending index.
        index: usize,
        /// The extent of that dimension.
        extent: usize,
    },
    /// A swizzle that is not a bijection or is out of range.
    #[error("invalid swizzle ({base},{bits},{shift}): {reason}")]
    InvalidSwizzle {
        /// Swizzle base.
        base: u32,
        /// Swizzle bits.
        bits: u32,
        /// Swizzle shift.
        shift: u32,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// `row_major_swizzle` preconditions not met.
    #[error("cannot build an ldmatrix swizzle: {0}")]
    NotSwizzleable(String),
    /// A permutation that is not one.
    #[error("{0:?} is not a permutation of the dimensions")]
    BadPermutation(Vec<usize>),
    /// An element size that is not supported.
    #[error("unsupported element size: {0}")]
    BadElementSize(String),
}

/// CuTe's swizzle functor: `x ^ ((x & (((1<<bits)-1) << (base+shift))) >> shift)`.
///
/// It XORs the `bits` bits starting at bit `base + shift` into the `bits` bits starting at
/// `base`; the lowest `base` bits (a vector of `2^base` elements) are never changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Swizzle {
    /// Number of low bits left untouched (log2 of the contiguous vector length).
    pub base: u32,
    /// Number of bits XORed.
    pub bits: u32,
    /// Distance between the source bits and the target bits.
    pub shift: u32,
}

impl Swizzle {
    /// `Swizzle(base, bits, shift)`.
    pub fn new(base: u32, bits: u32, shift: u32) -> Self {
        Swizzle { base, bits, shift }
    }

    /// Checks that the swizzle is a bijection (`shift >= bits`, as CuTe requires) and that
    /// `base + bits + shift <= 48`.
    pub fn validate(&self) -> Result<(), SharedLayoutError> {
        let err = |reason| SharedLayoutError::InvalidSwizzle {
            base: self.base,
            bits: self.bits,
            shift: self.shift,
            reason,
        };
        if u64::from(self.base) + u64::from(self.bits) + u64::from(self.shift) > 48 {
            return Err(err("base + bits + shift must be at most 48"));
        }
        if self.bits > 0 && self.shift < self.bits {
            return Err(err("shift must be at least bits"));
        }
        Ok(())
    }

    /// Applies the swizzle to `x`.
    pub fn apply(&self, x: usize) -> usize {
        let ones = if self.bits >= usize::BITS {
            usize::MAX
        } else {
            (1usize << self.bits) - 1
        };
        let mask = ones
            .checked_shl(self.base.saturating_add(self.shift))
            .unwrap_or(0);
        x ^ (x & mask).checked_shr(self.shift).unwrap_or(0)
    }

    /// The same swizzle on offsets scaled by `2^log2_scale` (used for byte offsets).
    pub fn scaled(&self, log2_scale: u32) -> Self {
        Swizzle {
            base: self.base + log2_scale,
            ..*self
        }
    }
}

impl fmt::Display for Swizzle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Swizzle({},{},{})", self.base, self.bits, self.shift)
    }
}

/// A shared-memory layout (canonical; equality and hashing on the canonical form).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SharedLayout {
    shape: Vec<usize>,
    mode_shape: Vec<usize>,
    mode_strides: Vec<usize>,
    swizzle: Option<Swizzle>,
}

/// Groups canonical (size > 1) modes by dimension; `None` if they do not factor `shape`.
fn group_modes(shape: &[usize], modes: &[usize]) -> Option<Vec<std::ops::Range<usize>>> {
    let mut out = Vec::with_capacity(shape.len());
    let mut next = 0;
    for &extent in shape {
        let start = next;
        let mut p: usize = 1;
        while p < extent {
            let m = *modes.get(next)?;
            p = p.checked_mul(m)?;
            next += 1;
        }
        if p != extent {
            return None;
        }
        out.push(start..next);
    }
    (next == modes.len()).then_some(out)
}

impl SharedLayout {
    /// Builds a layout from its raw lists: `mode_shape` lists each dimension's modes (most
    /// significant first, dimensions in order) and `mode_strides` one stride per mode.
    /// Size-1 modes may appear anywhere and are dropped. At most 2^24 elements.
    pub fn new(
        shape: &[usize],
        mode_shape: &[usize],
        mode_strides: &[usize],
        swizzle: Option<Swizzle>,
    ) -> Result<Self, SharedLayoutError> {
        if mode_shape.len() != mode_strides.len() {
            return Err(SharedLayoutError::LengthMismatch {
                what: "mode strides (one per mode)",
                expected: mode_shape.len(),
                found: mode_strides.len(),
            });
        }
        if shape.contains(&0) {
            return Err(SharedLayoutError::ZeroSize {
                what: "shape extents",
            });
        }
        if mode_shape.contains(&0) {
            return Err(SharedLayoutError::ZeroSize { what: "mode sizes" });
        }
        let mut total: u64 = 1;
        for &e in shape {
            total = total.saturating_mul(e as u64);
        }
        if total > MAX_LAYOUT_SIZE {
            return Err(SharedLayoutError::TooLarge(format!(
                "{total} elements exceed the cap of 2^24"
            )));
        }
        if let Some(sw) = swizzle {
            sw.validate()?;
        }
        // Drop size-1 modes, then group by dimension.
        let (modes, strides): (Vec<usize>, Vec<usize>) = mode_shape
            .iter()
            .zip(mode_strides)
            .filter(|(&m, _)| m > 1)
            .map(|(&m, &s)| (m, s))
            .unzip();
        let groups =
            group_modes(shape, &modes).ok_or_else(|| SharedLayoutError::ModesDoNotFactorShape {
                shape: shape.to_vec(),
                modes: mode_shape.to_vec(),
            })?;
        // The largest offset must fit comfortably (before the swizzle, which only touches
        // bits below base + bits <= 48).
        let mut max: u64 = 0;
        for (&m, &s) in modes.iter().zip(&strides) {
            let term = (m as u64 - 1)
                .checked_mul(s as u64)
                .ok_or_else(|| SharedLayoutError::TooLarge("offsets overflow".into()))?;
            max = max
                .checked_add(term)
                .ok_or_else(|| SharedLayoutError::TooLarge("offsets overflow".into()))?;
        }
        if max >= 1 << 48 {
            return Err(SharedLayoutError::TooLarge(format!(
                "the largest offset {max} exceeds 2^48"
            )));
        }
        // Merge modes whose strides chain, within each dimension.
        let mut cm = Vec::with_capacity(modes.len());
        let mut cs = Vec::with_capacity(modes.len());
        for g in groups {
            let mut dim_modes: Vec<(usize, usize)> = Vec::new();
            for i in g {
                let (m, s) = (modes[i], strides[i]);
                match dim_modes.last_mut() {
                    Some(last) if last.1 == s * m => {
                        last.0 *= m;
                        last.1 = s;
                    }
                    _ => dim_modes.push((m, s)),
                }
            }
            for (m, s) in dim_modes {
                cm.push(m);
                cs.push(s);
            }
        }
        Ok(SharedLayout {
            shape: shape.to_vec(),
            mode_shape: cm,
            mode_strides: cs,
            swizzle: swizzle.filter(|s| s.bits > 0),
        })
    }

    /// Row-major layout: the last dimension is contiguous.
    pub fn row_major(shape: &[usize]) -> Result<Self, SharedLayoutError> {
        let mut strides = vec![0usize; shape.len()];
        let mut s: usize = 1;
        for d in (0..shape.len()).rev() {
            strides[d] = s;
            s = s.saturating_mul(shape[d]);
        }
        Self::strided(shape, &strides)
    }

    /// Column-major layout: the first dimension is contiguous.
    pub fn column_major(shape: &[usize]) -> Result<Self, SharedLayoutError> {
        let mut strides = vec![0usize; shape.len()];
        let mut s: usize = 1;
        for d in 0..shape.len() {
            strides[d] = s;
            s = s.saturating_mul(shape[d]);
        }
        Self::strided(shape, &strides)
    }

    /// One stride per dimension: offset = `Σ index[d] · strides[d]`.
    pub fn strided(shape: &[usize], strides: &[usize]) -> Result<Self, SharedLayoutError> {
        if shape.len() != strides.len() {
            return Err(SharedLayoutError::LengthMismatch {
                what: "strides (one per dimension)",
                expected: shape.len(),
                found: strides.len(),
            });
        }
        Self::new(shape, shape, strides, None)
    }

    /// The ldmatrix-friendly swizzled row-major layout of `reference/tilus.md` §2.6.
    ///
    /// Requires rank >= 2, `shape[rank-2] % 8 == 0`, a row (last dimension) of a multiple of
    /// 16 bytes, and `elem_bytes` in {1, 2, 4, 8, 16}. With `vec_bytes = gcd(row bytes, 128)`:
    /// 128 gives `Swizzle(log2(16/elem_bytes), 3, 3)`, 64 gives bits 2, 32 gives bits 1 and
    /// 16 gives no swizzle.
    pub fn row_major_swizzle(
        shape: &[usize],
        elem_bytes: usize,
    ) -> Result<Self, SharedLayoutError> {
        if !matches!(elem_bytes, 1 | 2 | 4 | 8 | 16) {
            return Err(SharedLayoutError::BadElementSize(format!(
                "{elem_bytes} bytes (expected 1, 2, 4, 8 or 16)"
            )));
        }
        let rank = shape.len();
        if rank < 2 {
            return Err(SharedLayoutError::NotSwizzleable(format!(
                "rank {rank} (need at least 2)"
            )));
        }
        let rows = shape[rank - 2];
        let row_bytes = shape[rank - 1].saturating_mul(elem_bytes);
        if !rows.is_multiple_of(8) {
            return Err(SharedLayoutError::NotSwizzleable(format!(
                "{rows} rows is not a multiple of 8"
            )));
        }
        if !row_bytes.is_multiple_of(16) {
            return Err(SharedLayoutError::NotSwizzleable(format!(
                "a row of {row_bytes} bytes is not a multiple of 16"
            )));
        }
        let vec_bytes = gcd(row_bytes, 128);
        let bits = match vec_bytes {
            128 => 3,
            64 => 2,
            32 => 1,
            _ => 0,
        };
        let base = (16 / elem_bytes).trailing_zeros();
        let layout = Self::row_major(shape)?;
        Ok(if bits == 0 {
            layout
        } else {
            layout.with_swizzle(Swizzle::new(base, bits, 3))?
        })
    }

    /// The same layout with `swizzle` applied to its element offsets (replacing any other).
    pub fn with_swizzle(mut self, swizzle: Swizzle) -> Result<Self, SharedLayoutError> {
        swizzle.validate()?;
        self.swizzle = (swizzle.bits > 0).then_some(swizzle);
        Ok(self)
    }

    /// The same layout without a swizzle.
    pub fn without_swizzle(mut self) -> Self {
        self.swizzle = None;
        self
    }

    /// The tile shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Canonical mode sizes, grouped by dimension in order.
    pub fn mode_shape(&self) -> &[usize] {
        &self.mode_shape
    }

    /// One stride per canonical mode.
    pub fn mode_strides(&self) -> &[usize] {
        &self.mode_strides
    }

    /// The swizzle, if any.
    pub fn swizzle(&self) -> Option<Swizzle> {
        self.swizzle
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements of the tile.
    pub fn num_elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// For each dimension, the ids (positions in `mode_shape`) of its modes.
    pub fn dim_modes(&self) -> Vec<Vec<usize>> {
        group_modes(&self.shape, &self.mode_shape)
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.collect())
            .collect()
    }

    /// For each dimension, its stride if it has at most one mode (`None` otherwise).
    /// Dimensions of extent 1 report stride 0.
    pub fn dim_strides(&self) -> Option<Vec<usize>> {
        self.dim_modes()
            .iter()
            .map(|ids| match ids.as_slice() {
                [] => Some(0),
                [m] => Some(self.mode_strides[*m]),
                _ => None,
            })
            .collect()
    }

    /// The offset before the swizzle.
    fn linear_offset(&self, index: &[usize]) -> Result<usize, SharedLayoutError> {
        if index.len() != self.rank() {
            return Err(SharedLayoutError::RankMismatch {
                expected: self.rank(),
                found: index.len(),
            });
        }
        let mut off = 0usize;
        let mut next = 0usize; // first mode of the current dimension
        for (d, (&extent, &i)) in self.shape.iter().zip(index).enumerate() {
            if i >= extent {
                return Err(SharedLayoutError::IndexOutOfBounds {
                    dim: d,
                    index: i,
                    extent,
                });
            }
            // Canonical modes are > 1: the dimension owns the next modes up to its extent.
            let start = next;
            let mut p = 1usize;
            while p < extent && next < self.mode_shape.len() {
                p *= self.mode_shape[next];
                next += 1;
            }
            // Least significant mode last.
            let mut i = i;
            for m in (start..next).rev() {
                let size = self.mode_shape[m];
                // Bounded by the max offset checked in `new`.
                off += (i % size) * self.mode_strides[m];
                i /= size;
            }
        }
        Ok(off)
    }

    /// The element offset of `index`: Σ mode_index · stride, then the swizzle.
    pub fn offset(&self, index: &[usize]) -> Result<usize, SharedLayoutError> {
        let off = self.linear_offset(index)?;
        Ok(match self.swizzle {
            Some(s) => s.apply(off),
            None => off,
        })
    }

    /// The byte offset of `index` for elements of `elem_bits` bits.
    ///
    /// For byte-sized elements of `2^k` bytes this is CuTe's byte-level swizzle: the
    /// unswizzled offset is scaled to bytes and the swizzle is applied with
    /// `base += k` — which equals `offset(index) · bytes`. For other sizes (sub-byte or
    /// non-power-of-two) it is `floor(offset(index) · elem_bits / 8)`, the byte holding the
    /// element's first bit. `elem_bits` must be in 1..=1024.
    pub fn byte_offset(
        &self,
        index: &[usize],
        elem_bits: usize,
    ) -> Result<usize, SharedLayoutError> {
        if elem_bits == 0 || elem_bits > 1024 {
            return Err(SharedLayoutError::BadElementSize(format!(
                "{elem_bits} bits (expected 1..=1024)"
            )));
        }
        if elem_bits.is_multiple_of(8) && (elem_bits / 8).is_power_of_two() {
            let bytes = elem_bits / 8;
            let lin = self.linear_offset(index)? * bytes;
            Ok(match self.swizzle {
                Some(s) => s.scaled(bytes.trailing_zeros()).apply(lin),
                None => lin,
            })
        } else {
            Ok(self.offset(index)? * elem_bits / 8)
        }
    }

    /// Number of elements spanned: the largest (swizzled) offset plus one.
    pub fn size(&self) -> usize {
        let max: usize = self
            .mode_shape
            .iter()
            .zip(&self.mode_strides)
            .map(|(&m, &s)| (m - 1) * s)
            .sum();
        match self.swizzle {
            None => max + 1,
            Some(s) => {
                let mut best = 0;
                for_each_index(&self.shape, |idx| {
                    if let Ok(o) = self.linear_offset(idx) {
                        best = best.max(s.apply(o));
                    }
                });
                best + 1
            }
        }
    }

    /// Reorders the dimensions: dimension `i` of the result is dimension `dims[i]` of
    /// `self`. The swizzle is kept (offsets do not change).
    pub fn permute(&self, dims: &[usize]) -> Result<Self, SharedLayoutError> {
        let rank = self.rank();
        let mut seen = vec![false; rank];
        if dims.len() != rank
            || dims
                .iter()
                .any(|&d| d >= rank || std::mem::replace(&mut seen[d], true))
        {
            return Err(SharedLayoutError::BadPermutation(dims.to_vec()));
        }
        let groups = self.dim_modes();
        let mut shape = Vec::with_capacity(rank);
        let mut modes = Vec::new();
        let mut strides = Vec::new();
        for &d in dims {
            shape.push(self.shape[d]);
            for &m in &groups[d] {
                modes.push(self.mode_shape[m]);
                strides.push(self.mode_strides[m]);
            }
        }
        Self::new(&shape, &modes, &strides, self.swizzle)
    }

    /// Is this `row_major(shape)`, ignoring the swizzle?
    fn is_row_major(&self) -> bool {
        Self::row_major(&self.shape)
            .map(|r| r.mode_shape == self.mode_shape && r.mode_strides == self.mode_strides)
            .unwrap_or(false)
    }

    /// Is this `column_major(shape)`, ignoring the swizzle?
    fn is_column_major(&self) -> bool {
        Self::column_major(&self.shape)
            .map(|r| r.mode_shape == self.mode_shape && r.mode_strides == self.mode_strides)
            .unwrap_or(false)
    }
}

/// Calls `f` on every index of `shape` in row-major order.
pub(crate) fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx = vec![0usize; shape.len()];
    loop {
        f(&idx);
        let mut d = shape.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn join(v: &[usize]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Display for SharedLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rank() > 0 && self.is_row_major() {
            write!(f, "row_major({})", join(&self.shape))?;
        } else if self.rank() > 0 && self.is_column_major() {
            write!(f, "column_major({})", join(&self.shape))?;
        } else if let Some(strides) = self.dim_strides() {
            write!(
                f,
                "strided(shape=[{}], strides=[{}])",
                join(&self.shape),
                join(&strides)
            )?;
        } else {
            write!(
                f,
                "shared_layout(shape=[{}], modes=[{}], strides=[{}])",
                join(&self.shape),
                join(&self.mode_shape),
                join(&self.mode_strides)
            )?;
        }
        if let Some(s) = self.swizzle {
            write!(f, ".swizzle({},{},{})", s.base, s.bits, s.shift)?;
        }
        Ok(())
    }
}

/// Parses the shared-layout syntax of the module documentation.
pub fn parse_shared_layout(src: &str) -> Result<SharedLayout, LayoutParseError> {
    let mut cur = Cursor::new(src)?;
    let start = cur.peek().col;
    let name = match &cur.peek().tok {
        Tok::Ident(s) => s.clone(),
        _ => {
            return Err(cur.expected(
                "a shared layout (`row_major`, `column_major`, `strided` or `shared_layout`)",
            ))
        }
    };
    let built = match name.as_str() {
        "row_major" | "column_major" => {
            cur.bump();
            cur.expect(&Tok::LParen, &format!("`(` after `{name}`"))?;
            let mut shape = Vec::new();
            loop {
                let (v, col) = cur.int("an extent")?;
                shape.push(shared_extent(&cur, v, col)?);
                if cur.eat(&Tok::RParen) {
                    break;
                }
                cur.expect(&Tok::Comma, "`)` or `,` after argument")?;
            }
            if name == "row_major" {
                SharedLayout::row_major(&shape)
            } else {
                SharedLayout::column_major(&shape)
            }
        }
        "strided" => {
            cur.bump();
            cur.expect(&Tok::LParen, "`(` after `strided`")?;
            cur.expect_keyword("shape")?;
            let shape = cur_list(&mut cur, "the shape")?;
            let shape = shared_list(&cur, shape, true)?;
            cur.expect(&Tok::Comma, "`,` after the shape")?;
            cur.expect_keyword("strides")?;
            let strides = cur_list(&mut cur, "the strides")?;
            let strides = shared_list(&cur, strides, false)?;
            cur.expect(&Tok::RParen, "`)` after the strides")?;
            SharedLayout::strided(&shape, &strides)
        }
        "shared_layout" => {
            cur.bump();
            cur.expect(&Tok::LParen, "`(` after `shared_layout`")?;
            cur.expect_keyword("shape")?;
            let shape = cur_list(&mut cur, "the shape")?;
            let shape = shared_list(&cur, shape, true)?;
            cur.expect(&Tok::Comma, "`,` after the shape")?;
            cur.expect_keyword("modes")?;
            let modes = cur_list(&mut cur, "the modes")?;
            let modes = shared_list(&cur, modes, true)?;
            cur.expect(&Tok::Comma, "`,` after the modes")?;
            cur.expect_keyword("strides")?;
            let strides = cur_list(&mut cur, "the strides")?;
            let strides = shared_list(&cur, strides, false)?;
            cur.expect(&Tok::RParen, "`)` after the strides")?;
            SharedLayout::new(&shape, &modes, &strides, None)
        }
        other => {
            return Err(cur.error_at(
                start,
                format!(
                    "unknown shared layout `{other}`; expected `row_major`, `column_major`, `strided` or `shared_layout`"
                ),
            ))
        }
    };
    let mut layout = built.map_err(|e| cur.error_at(start, format!("invalid `{name}`: {e}")))?;
    if cur.peek().tok == Tok::Dot {
        cur.bump();
        let col = cur.peek().col;
        if !cur.at_ident("swizzle") {
            return Err(cur.expected("`swizzle` after `.`"));
        }
        cur.bump();
        cur.expect(&Tok::LParen, "`(` after `swizzle`")?;
        let mut args = [0u32; 3];
        for (i, a) in args.iter_mut().enumerate() {
            let (v, vcol) =
                cur.int(["the swizzle base", "the swizzle bits", "the swizzle shift"][i])?;
            *a = u32::try_from(v)
                .ok()
                .filter(|&v| v <= 48)
                .ok_or_else(|| cur.error_at(vcol, "swizzle parameters must be at most 48"))?;
            if i < 2 {
                cur.expect(&Tok::Comma, "`,` between swizzle arguments")?;
            }
        }
        cur.expect(&Tok::RParen, "`)` after the three swizzle arguments")?;
        layout = layout
            .with_swizzle(Swizzle::new(args[0], args[1], args[2]))
            .map_err(|e| cur.error_at(col, e.to_string()))?;
    }
    cur.finish("end of input after the shared layout (only `.swizzle(...)` may follow)")?;
    Ok(layout)
}

fn cur_list(cur: &mut Cursor<'_>, what: &str) -> Result<Vec<(u64, usize)>, LayoutParseError> {
    cur.int_list(what)
}

/// Converts parsed list entries, checking extents (`positive`) or strides.
fn shared_list(
    cur: &Cursor<'_>,
    items: Vec<(u64, usize)>,
    positive: bool,
) -> Result<Vec<usize>, LayoutParseError> {
    items
        .into_iter()
        .map(|(v, col)| {
            if positive {
                shared_extent(cur, v, col)
            } else if v >= 1 << 48 {
                Err(cur.error_at(col, "strides must be below 2^48"))
            } else {
                Ok(v as usize)
            }
        })
        .collect()
}

fn shared_extent(cur: &Cursor<'_>, v: u64, col: usize) -> Result<usize, LayoutParseError> {
    super::text::lexer::extent(cur, v, col)
}
