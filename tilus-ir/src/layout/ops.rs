//! Primitives and operations of the layout algebra (spec/layouts.md, "Primitives" and
//! "Operations").

use std::ops::{Div, Mul};

use super::error::{show, LayoutError};
use super::register::{prod, Entry, Parts, RegisterLayout};

mod divide;

pub use divide::left_divide;

/// Which list a primitive puts its modes in.
#[derive(Clone, Copy)]
enum Kind {
    Local,
    Spatial,
}

/// A primitive whose serialization order is `order` (most significant dimension first).
/// Zero extents are treated as 1 (the infallible constructors document this).
fn primitive(shape: &[usize], order: &[usize], kind: Kind) -> RegisterLayout {
    let shape: Vec<usize> = shape.iter().map(|&s| s.max(1)).collect();
    let list: Vec<usize> = order.to_vec();
    let parts = Parts {
        sizes: shape.clone(),
        dims: (0..shape.len()).map(|d| vec![d]).collect(),
        spatial: match kind {
            Kind::Spatial => list.iter().map(|&m| Entry::Mode(m)).collect(),
            Kind::Local => Vec::new(),
        },
        local: match kind {
            Kind::Local => list,
            Kind::Spatial => Vec::new(),
        },
        shape,
    };
    parts.finish()
}

fn row_major(n: usize) -> Vec<usize> {
    (0..n).collect()
}

fn col_major(n: usize) -> Vec<usize> {
    (0..n).rev().collect()
}

/// Checks a ranked primitive's arguments and returns its serialization order: the
/// dimensions sorted by rank, rank 0 most significant (`order[k]` = the dim of rank k).
fn ranked_order(
    primitive_name: &'static str,
    shape: &[usize],
    ranks: &[usize],
) -> Result<Vec<usize>, LayoutError> {
    if let Some(d) = shape.iter().position(|&s| s == 0) {
        return Err(LayoutError::ZeroExtent {
            primitive: primitive_name,
            shape: shape.to_vec(),
            dim: d,
        });
    }
    let bad = |reason: String| LayoutError::BadRanks {
        shape: shape.to_vec(),
        ranks: ranks.to_vec(),
        reason,
    };
    if ranks.len() != shape.len() {
        return Err(bad(format!(
            "{} ranks for {} dimensions",
            ranks.len(),
            shape.len()
        )));
    }
    let mut order = vec![usize::MAX; shape.len()];
    for (d, &r) in ranks.iter().enumerate() {
        if r >= shape.len() {
            return Err(bad(format!(
                "rank {r} of dimension {d} is not below {}",
                shape.len()
            )));
        }
        if order[r] != usize::MAX {
            return Err(bad(format!(
                "rank {r} is given to both dimension {} and dimension {d}",
                order[r]
            )));
        }
        order[r] = d;
    }
    if prod(shape.iter().copied()) == usize::MAX {
        return Err(LayoutError::Overflow {
            what: format!("the element count of {primitive_name}{shape:?}"),
        });
    }
    Ok(order)
}

/// `local(a, b, ...)`: one thread holds the whole tile; slot = row-major index.
/// A zero extent is treated as 1 (use [`local_ranked`] to reject it).
pub fn local(shape: &[usize]) -> RegisterLayout {
    primitive(shape, &row_major(shape.len()), Kind::Local)
}

/// `spatial(a, b, ...)`: one element per thread; thread = row-major index.
/// A zero extent is treated as 1 (use [`spatial_ranked`] to reject it).
pub fn spatial(shape: &[usize]) -> RegisterLayout {
    primitive(shape, &row_major(shape.len()), Kind::Spatial)
}

/// `column_local(a, b, ...)`: like [`local`] with column-major slots.
pub fn column_local(shape: &[usize]) -> RegisterLayout {
    primitive(shape, &col_major(shape.len()), Kind::Local)
}

/// `column_spatial(a, b, ...)`: like [`spatial`] with column-major threads.
pub fn column_spatial(shape: &[usize]) -> RegisterLayout {
    primitive(shape, &col_major(shape.len()), Kind::Spatial)
}

/// `local(..., ranks=[...])`: `ranks[d]` is the significance of dimension `d` in the slot
/// index, 0 = most significant (Tilus's convention: the dimensions sorted by rank are
/// serialized row-major). `ranks = [0, 1, ..]` is [`local`]. Rejects zero extents and
/// ranks that are not a permutation of `0..rank`.
pub fn local_ranked(shape: &[usize], ranks: &[usize]) -> Result<RegisterLayout, LayoutError> {
    let order = ranked_order("local", shape, ranks)?;
    Ok(primitive(shape, &order, Kind::Local))
}

/// `spatial(..., ranks=[...])`: `ranks[d]` is the significance of dimension `d` in the
/// thread index, 0 = most significant. `ranks = [0, 1, ..]` is [`spatial`].
pub fn spatial_ranked(shape: &[usize], ranks: &[usize]) -> Result<RegisterLayout, LayoutError> {
    let order = ranked_order("spatial", shape, ranks)?;
    Ok(primitive(shape, &order, Kind::Spatial))
}

/// `column_local(..., ranks=[...])`: the column-major mirror of [`local_ranked`]: the
/// dimension of rank 0 is the *least* significant. `ranks = [0, 1, ..]` is
/// [`column_local`]; `column_local_ranked(s, r) == local_ranked(s, [n-1-r[d]])`.
pub fn column_local_ranked(
    shape: &[usize],
    ranks: &[usize],
) -> Result<RegisterLayout, LayoutError> {
    let mut order = ranked_order("column_local", shape, ranks)?;
    order.reverse();
    Ok(primitive(shape, &order, Kind::Local))
}

/// `column_spatial(..., ranks=[...])`: the column-major mirror of [`spatial_ranked`]: the
/// dimension of rank 0 is the least significant. `ranks = [0, 1, ..]` is
/// [`column_spatial`].
pub fn column_spatial_ranked(
    shape: &[usize],
    ranks: &[usize],
) -> Result<RegisterLayout, LayoutError> {
    let mut order = ranked_order("column_spatial", shape, ranks)?;
    order.reverse();
    Ok(primitive(shape, &order, Kind::Spatial))
}

/// `replicated(a, b, ..., threads=R)`: each of R threads holds the whole tile
/// (spatial `[-R]` composed with `local(shape)`). `threads = 0` is treated as 1.
pub fn replicated(shape: &[usize], threads: usize) -> RegisterLayout {
    let mut parts = local(shape).parts();
    parts.spatial.insert(0, Entry::Rep(threads.max(1)));
    parts.finish()
}

/// `concat(L, R)`: shape `L.shape ++ R.shape`, thread `tL * T_R + tR`, slot `lL * L_R + lR`.
pub fn concat(l: &RegisterLayout, r: &RegisterLayout) -> RegisterLayout {
    let mut a = l.parts();
    let b = r.parts();
    let off = a.sizes.len();
    a.shape.extend_from_slice(&b.shape);
    a.sizes.extend_from_slice(&b.sizes);
    a.dims
        .extend(b.dims.iter().map(|d| d.iter().map(|&m| m + off).collect()));
    a.spatial.extend(b.spatial.iter().map(|&e| match e {
        Entry::Mode(m) => Entry::Mode(m + off),
        rep => rep,
    }));
    a.local.extend(b.local.iter().map(|&m| m + off));
    a.finish()
}

/// Tilus's `auto_local_spatial(num_threads, shape)`: greedily from the last dimension,
/// `spatial[d] = gcd(threads_left, shape[d])`, the rest of the extent is local, and threads
/// left over become a leading replication digit. Result:
/// `replication . local(local_shape) . spatial(spatial_shape)`.
/// `num_threads = 0` and zero extents are treated as 1.
pub fn auto_local_spatial(num_threads: usize, shape: &[usize]) -> RegisterLayout {
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let shape: Vec<usize> = shape.iter().map(|&s| s.max(1)).collect();
    let mut left = num_threads.max(1);
    let mut sp = vec![1; shape.len()];
    let mut lo = vec![1; shape.len()];
    for d in (0..shape.len()).rev() {
        let g = gcd(left, shape[d]);
        sp[d] = g;
        lo[d] = shape[d] / g;
        left /= g;
    }
    let inner = local(&lo).compose(&spatial(&sp));
    let mut parts = inner.parts();
    parts.spatial.insert(0, Entry::Rep(left));
    parts.finish()
}

/// Composition `outer * inner` on working forms (ranks unified by prepending unit dims).
pub(crate) fn compose_parts(mut a: Parts, mut b: Parts) -> Parts {
    let rank = a.rank().max(b.rank());
    a.prepend_unit_dims(rank - a.rank());
    b.prepend_unit_dims(rank - b.rank());
    let off = a.sizes.len();
    let shape = a
        .shape
        .iter()
        .zip(&b.shape)
        .map(|(&x, &y)| x.saturating_mul(y))
        .collect();
    let mut sizes = a.sizes;
    sizes.extend_from_slice(&b.sizes);
    let dims = a
        .dims
        .into_iter()
        .zip(b.dims)
        .map(|(mut da, db)| {
            da.extend(db.iter().map(|&m| m + off));
            da
        })
        .collect();
    let mut spatial = a.spatial;
    spatial.extend(b.spatial.iter().map(|&e| match e {
        Entry::Mode(m) => Entry::Mode(m + off),
        rep => rep,
    }));
    let mut local = a.local;
    local.extend(b.local.iter().map(|&m| m + off));
    Parts {
        shape,
        sizes,
        dims,
        spatial,
        local,
    }
}

fn check_dims(
    op: &'static str,
    layout: &RegisterLayout,
    dims: &[usize],
    bound: usize,
) -> Result<(), LayoutError> {
    let err = |reason: String| LayoutError::BadDims {
        op,
        dims: dims.to_vec(),
        layout: show(layout),
        reason,
    };
    if let Some(&d) = dims.iter().find(|&&d| d >= bound) {
        return Err(err(format!("dimension {d} is not below {bound}")));
    }
    for (i, &d) in dims.iter().enumerate() {
        if dims[..i].contains(&d) {
            return Err(err(format!("dimension {d} is listed twice")));
        }
    }
    Ok(())
}

impl RegisterLayout {
    /// `self * inner`: every element of `self` (the outer layout) becomes an `inner` tile.
    /// `C(t, l) = self(t / T_in, l / L_in) ⊙ inner.shape + inner(t % T_in, l % L_in)`.
    pub fn compose(&self, inner: &RegisterLayout) -> RegisterLayout {
        compose_parts(self.parts(), inner.parts()).finish()
    }

    /// `self.local(shape)` = `self * local(shape)`.
    pub fn local(&self, shape: &[usize]) -> RegisterLayout {
        self.compose(&local(shape))
    }

    /// `self.spatial(shape)` = `self * spatial(shape)`.
    pub fn spatial(&self, shape: &[usize]) -> RegisterLayout {
        self.compose(&spatial(shape))
    }

    /// `self.column_local(shape)` = `self * column_local(shape)`.
    pub fn column_local(&self, shape: &[usize]) -> RegisterLayout {
        self.compose(&column_local(shape))
    }

    /// `self.column_spatial(shape)` = `self * column_spatial(shape)`.
    pub fn column_spatial(&self, shape: &[usize]) -> RegisterLayout {
        self.compose(&column_spatial(shape))
    }

    /// `self / r`: the Q with `self == Q * r`, or an error saying why none exists.
    pub fn divide(&self, r: &RegisterLayout) -> Result<RegisterLayout, LayoutError> {
        divide::divide(self, r)
    }

    /// `reduce(self, dims, keepdims)`: where the result of reducing over `dims` lives.
    /// The modes of the reduced dimensions are removed; a reduced spatial mode of size `s`
    /// becomes the replication digit `-s` in place; a reduced local mode disappears.
    pub fn reduce(&self, dims: &[usize], keepdims: bool) -> Result<RegisterLayout, LayoutError> {
        check_dims("reduce", self, dims, self.rank())?;
        let mut p = self.parts();
        let mut reduced = vec![false; p.sizes.len()];
        for &d in dims {
            for &m in &p.dims[d] {
                reduced[m] = true;
            }
            p.dims[d].clear();
            p.shape[d] = 1;
        }
        let sizes = p.sizes.clone();
        for e in &mut p.spatial {
            if let Entry::Mode(m) = *e {
                if reduced[m] {
                    *e = Entry::Rep(sizes[m]);
                }
            }
        }
        p.local.retain(|&m| !reduced[m]);
        if !keepdims {
            let keep: Vec<bool> = (0..p.rank()).map(|d| !dims.contains(&d)).collect();
            p.shape = p
                .shape
                .iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(&s, _)| s)
                .collect();
            p.dims = p
                .dims
                .into_iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(d, _)| d)
                .collect();
        }
        Ok(p.finish())
    }

    /// Reorders dimensions: dimension `k` of the result is dimension `dims[k]` of `self`.
    pub fn permute(&self, dims: &[usize]) -> Result<Self, LayoutError> {
        check_dims("permute", self, dims, self.rank())?;
        if dims.len() != self.rank() {
            return Err(LayoutError::BadDims {
                op: "permute",
                dims: dims.to_vec(),
                layout: show(self),
                reason: format!(
                    "{} dimensions given for a layout of rank {}",
                    dims.len(),
                    self.rank()
                ),
            });
        }
        let p = self.parts();
        Ok(Parts {
            shape: dims.iter().map(|&d| p.shape[d]).collect(),
            dims: dims.iter().map(|&d| p.dims[d].clone()).collect(),
            ..p
        }
        .finish())
    }

    /// Removes the listed dimensions, which must have extent 1.
    pub fn squeeze(&self, dims: &[usize]) -> Result<Self, LayoutError> {
        check_dims("squeeze", self, dims, self.rank())?;
        if let Some(&d) = dims.iter().find(|&&d| self.shape()[d] != 1) {
            return Err(LayoutError::BadDims {
                op: "squeeze",
                dims: dims.to_vec(),
                layout: show(self),
                reason: format!("dimension {d} has extent {}, not 1", self.shape()[d]),
            });
        }
        let mut p = self.parts();
        let keep: Vec<usize> = (0..p.rank()).filter(|d| !dims.contains(d)).collect();
        p.shape = keep.iter().map(|&d| p.shape[d]).collect();
        p.dims = keep.iter().map(|&d| p.dims[d].clone()).collect();
        Ok(p.finish())
    }

    /// Inserts dimensions of extent 1; `dims` are their positions in the result.
    pub fn unsqueeze(&self, dims: &[usize]) -> Result<Self, LayoutError> {
        let out_rank = self.rank() + dims.len();
        check_dims("unsqueeze", self, dims, out_rank)?;
        let mut p = self.parts();
        let mut old_shape = p.shape.into_iter();
        let mut old_dims = p.dims.into_iter();
        let mut shape = Vec::with_capacity(out_rank);
        let mut new_dims = Vec::with_capacity(out_rank);
        for d in 0..out_rank {
            if dims.contains(&d) {
                shape.push(1);
                new_dims.push(Vec::new());
            } else {
                // The counts match: out_rank - dims.len() == old rank.
                shape.push(old_shape.next().unwrap_or(1));
                new_dims.push(old_dims.next().unwrap_or_default());
            }
        }
        p.shape = shape;
        p.dims = new_dims;
        Ok(p.finish())
    }

    /// Redistributes the modes over a new shape with the same number of elements. A mode
    /// may be split where a new dimension boundary falls on one of its factors (e.g.
    /// `spatial(2,4).reshape([2,2,2]) == spatial(2,2,2)`); it is an error when a boundary
    /// cuts a mode (the boundary's position is not a factor of the mode).
    pub fn reshape(&self, shape: &[usize]) -> Result<Self, LayoutError> {
        let err = |reason: String| LayoutError::Reshape {
            layout: show(self),
            shape: shape.to_vec(),
            reason,
        };
        if let Some(d) = shape.iter().position(|&s| s == 0) {
            return Err(err(format!("dimension {d} has extent 0")));
        }
        let total = shape
            .iter()
            .try_fold(1usize, |a, &b| a.checked_mul(b))
            .ok_or_else(|| err("the element count overflows".to_string()))?;
        if total != self.num_elements() {
            return Err(err(format!(
                "{} elements cannot become {total}",
                self.num_elements()
            )));
        }
        let old = self.parts();
        let mut sizes = Vec::new();
        let mut pieces: Vec<Vec<usize>> = vec![Vec::new(); old.sizes.len()];
        let mut dims: Vec<Vec<usize>> = vec![Vec::new(); shape.len()];
        let mut d = 0usize; // current new dimension
        let mut need = shape.first().copied().unwrap_or(1); // factor it still needs
        for (od, modes) in old.dims.iter().enumerate() {
            for &m in modes {
                let mut p = old.sizes[m];
                while p > 1 {
                    while need == 1 && d + 1 < shape.len() {
                        d += 1;
                        need = shape[d];
                    }
                    if need == 1 {
                        return Err(err(format!(
                            "mode {m} of size {p} of old dimension {od} does not fit in the new shape"
                        )));
                    }
                    let piece = if need.is_multiple_of(p) {
                        p
                    } else if p.is_multiple_of(need) {
                        need
                    } else {
                        return Err(err(format!(
                            "the boundary above new dimension {d} (which still needs a factor \
                             {need}) cuts mode {m} of size {p} of old dimension {od} \
                             (neither divides the other)"
                        )));
                    };
                    sizes.push(piece);
                    let id = sizes.len() - 1;
                    pieces[m].push(id);
                    dims[d].push(id);
                    need /= piece;
                    p /= piece;
                }
            }
        }
        let spatial = old
            .spatial
            .iter()
            .flat_map(|&e| match e {
                Entry::Mode(m) => pieces[m].iter().map(|&i| Entry::Mode(i)).collect(),
                rep => vec![rep],
            })
            .collect();
        let local = old
            .local
            .iter()
            .flat_map(|&m| pieces[m].iter().copied())
            .collect();
        Ok(Parts {
            shape: shape.to_vec(),
            sizes,
            dims,
            spatial,
            local,
        }
        .finish())
    }

    /// `reshape([num_elements])`.
    pub fn flatten(&self) -> Result<Self, LayoutError> {
        self.reshape(&[self.num_elements()])
    }
}

impl Mul for RegisterLayout {
    type Output = RegisterLayout;
    fn mul(self, rhs: RegisterLayout) -> RegisterLayout {
        self.compose(&rhs)
    }
}

impl Mul<&RegisterLayout> for &RegisterLayout {
    type Output = RegisterLayout;
    fn mul(self, rhs: &RegisterLayout) -> RegisterLayout {
        self.compose(rhs)
    }
}

impl Mul<&RegisterLayout> for RegisterLayout {
    type Output = RegisterLayout;
    fn mul(self, rhs: &RegisterLayout) -> RegisterLayout {
        self.compose(rhs)
    }
}

impl Mul<RegisterLayout> for &RegisterLayout {
    type Output = RegisterLayout;
    fn mul(self, rhs: RegisterLayout) -> RegisterLayout {
        self.compose(&rhs)
    }
}

impl Div for &RegisterLayout {
    type Output = Result<RegisterLayout, LayoutError>;
    fn div(self, rhs: &RegisterLayout) -> Self::Output {
        self.divide(rhs)
    }
}

impl Div for RegisterLayout {
    type Output = Result<RegisterLayout, LayoutError>;
    fn div(self, rhs: RegisterLayout) -> Self::Output {
        self.divide(&rhs)
    }
}
