//! The register layout type, its canonical form and its evaluation.

use super::error::{show, LayoutError};

/// A register layout: how a tile of `shape` is spread over the registers of threads.
///
/// It is four lists (spec/layouts.md, "Register layouts"):
/// - `shape`: the tile shape;
/// - `mode_shape`: the sizes of the modes; modes of dimension 0 come first, then those of
///   dimension 1, and so on; within a dimension the most significant mode comes first;
/// - `spatial_modes`: mode ids (`>= 0`) or replication digits (`-r`, `r` threads hold
///   copies), serialized row-major (first entry most significant) into the thread index;
/// - `local_modes`: mode ids serialized row-major into the register slot.
///
/// Values are always in canonical form: no mode or replication digit of size 1; no two
/// modes that are adjacent in their dimension *and* adjacent, in the same order, in the
/// same list; no two adjacent replication digits (they are merged: `-2, -3` becomes `-6`,
/// which is the same function). Derived equality and hashing are therefore equality of
/// canonical forms.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegisterLayout {
    shape: Vec<usize>,
    mode_shape: Vec<usize>,
    spatial_modes: Vec<i64>,
    local_modes: Vec<usize>,
}

/// One entry of the spatial list of a [`Parts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A mode id.
    Mode(usize),
    /// A replication digit of this size.
    Rep(usize),
}

/// A working, not necessarily canonical, form of a layout used by the operations.
///
/// Mode ids index `sizes`; ids that appear in no dimension are ignored by [`Parts::finish`].
#[derive(Clone, Debug)]
pub(crate) struct Parts {
    pub(crate) shape: Vec<usize>,
    pub(crate) sizes: Vec<usize>,
    pub(crate) dims: Vec<Vec<usize>>,
    pub(crate) spatial: Vec<Entry>,
    pub(crate) local: Vec<usize>,
}

/// Saturating product (sizes are validated where they enter the algebra; saturation only
/// keeps absurd inputs from panicking).
pub(crate) fn prod(it: impl IntoIterator<Item = usize>) -> usize {
    it.into_iter().fold(1usize, |a, b| a.saturating_mul(b))
}

impl Parts {
    /// Number of dimensions.
    pub(crate) fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Prepends `k` dimensions of size 1.
    pub(crate) fn prepend_unit_dims(&mut self, k: usize) {
        let mut shape = vec![1; k];
        shape.extend_from_slice(&self.shape);
        self.shape = shape;
        let mut dims = vec![Vec::new(); k];
        dims.append(&mut self.dims);
        self.dims = dims;
    }

    /// Adds a mode of the given size and returns its id.
    pub(crate) fn add_mode(&mut self, size: usize) -> usize {
        self.sizes.push(size);
        self.sizes.len() - 1
    }

    /// Splits mode `m` in place into `(m, new)` with sizes `(hi, lo)`; `m` keeps the more
    /// significant part. The new mode follows `m` in its dimension and in its list, which
    /// keeps the function unchanged. Returns the new id.
    pub(crate) fn split_mode(&mut self, m: usize, hi: usize, lo: usize) -> usize {
        let n = self.add_mode(lo);
        self.sizes[m] = hi;
        for dim in &mut self.dims {
            if let Some(p) = dim.iter().position(|&x| x == m) {
                dim.insert(p + 1, n);
            }
        }
        if let Some(p) = self.spatial.iter().position(|&e| e == Entry::Mode(m)) {
            self.spatial.insert(p + 1, Entry::Mode(n));
        }
        if let Some(p) = self.local.iter().position(|&x| x == m) {
            self.local.insert(p + 1, n);
        }
        n
    }

    /// The dimension of each mode id (`None` for ids in no dimension).
    fn dim_of(&self) -> Vec<Option<(usize, usize)>> {
        let mut out = vec![None; self.sizes.len()];
        for (d, modes) in self.dims.iter().enumerate() {
            for (p, &m) in modes.iter().enumerate() {
                if let Some(slot) = out.get_mut(m) {
                    *slot = Some((d, p));
                }
            }
        }
        out
    }

    /// Canonicalizes and renumbers into a [`RegisterLayout`].
    pub(crate) fn finish(mut self) -> RegisterLayout {
        // Drop size-1 modes and replication digits.
        let sizes = self.sizes.clone();
        for dim in &mut self.dims {
            dim.retain(|&m| sizes[m] != 1);
        }
        self.spatial.retain(|&e| match e {
            Entry::Mode(m) => sizes[m] != 1,
            Entry::Rep(r) => r != 1,
        });
        self.local.retain(|&m| sizes[m] != 1);

        // Merge to a fixpoint.
        loop {
            let pos = self.dim_of();
            let adjacent = |a: usize, b: usize| match (pos[a], pos[b]) {
                (Some((da, pa)), Some((db, pb))) => da == db && pa + 1 == pb,
                _ => false,
            };
            let mut merge: Option<(usize, usize)> = None;
            let mut rep_merge: Option<usize> = None;
            for (i, w) in self.spatial.windows(2).enumerate() {
                match (w[0], w[1]) {
                    (Entry::Mode(a), Entry::Mode(b)) if adjacent(a, b) => {
                        merge = Some((a, b));
                        break;
                    }
                    (Entry::Rep(_), Entry::Rep(_)) => {
                        rep_merge = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            if merge.is_none() && rep_merge.is_none() {
                merge = self
                    .local
                    .windows(2)
                    .find(|w| adjacent(w[0], w[1]))
                    .map(|w| (w[0], w[1]));
            }
            if let Some(i) = rep_merge {
                if let (Entry::Rep(x), Entry::Rep(y)) = (self.spatial[i], self.spatial[i + 1]) {
                    self.spatial[i] = Entry::Rep(x.saturating_mul(y));
                    self.spatial.remove(i + 1);
                }
                continue;
            }
            let Some((a, b)) = merge else { break };
            self.sizes[a] = self.sizes[a].saturating_mul(self.sizes[b]);
            for dim in &mut self.dims {
                dim.retain(|&m| m != b);
            }
            self.spatial.retain(|&e| e != Entry::Mode(b));
            self.local.retain(|&m| m != b);
        }

        // Renumber dimension-major.
        let mut new_id = vec![usize::MAX; self.sizes.len()];
        let mut mode_shape = Vec::new();
        for dim in &self.dims {
            for &m in dim {
                new_id[m] = mode_shape.len();
                mode_shape.push(self.sizes[m]);
            }
        }
        let spatial_modes = self
            .spatial
            .iter()
            .map(|&e| match e {
                Entry::Mode(m) => new_id[m] as i64,
                Entry::Rep(r) => -(r as i64),
            })
            .collect();
        let local_modes = self.local.iter().map(|&m| new_id[m]).collect();
        RegisterLayout {
            shape: self.shape,
            mode_shape,
            spatial_modes,
            local_modes,
        }
    }
}

impl RegisterLayout {
    /// The raw constructor (`register_layout(shape=, modes=, spatial=, local=)`).
    ///
    /// Modes are given dimension by dimension: dimension `d` owns the next modes whose
    /// product is `shape[d]` (size-1 modes carry no information and are dropped first, so
    /// this grouping is unambiguous; a dimension of size 1 owns no mode). Every mode id must
    /// appear exactly once in `spatial_modes` or `local_modes`; negative spatial entries
    /// `-r` are replication digits. The result is canonical.
    pub fn new(
        shape: Vec<usize>,
        mode_shape: Vec<usize>,
        spatial_modes: Vec<i64>,
        local_modes: Vec<usize>,
    ) -> Result<Self, LayoutError> {
        let fail = |reason: String| LayoutError::InvalidLayout {
            shape: shape.clone(),
            modes: mode_shape.clone(),
            spatial: spatial_modes.clone(),
            local: local_modes.clone(),
            reason,
        };
        if let Some(d) = shape.iter().position(|&s| s == 0) {
            return Err(fail(format!("dimension {d} has extent 0")));
        }
        if let Some(m) = mode_shape.iter().position(|&s| s == 0) {
            return Err(fail(format!("mode {m} has size 0")));
        }
        let n = mode_shape.len();
        let mut seen = vec![false; n];
        let mut spatial = Vec::with_capacity(spatial_modes.len());
        for &e in &spatial_modes {
            if e < 0 {
                let r = usize::try_from(e.unsigned_abs())
                    .map_err(|_| fail(format!("replication digit {e} too large")))?;
                spatial.push(Entry::Rep(r));
            } else {
                let m = usize::try_from(e).map_err(|_| fail(format!("mode id {e} too large")))?;
                if m >= n {
                    return Err(fail(format!(
                        "spatial entry {m} is not a mode id (there are {n} modes)"
                    )));
                }
                if seen[m] {
                    return Err(fail(format!("mode {m} appears twice")));
                }
                seen[m] = true;
                spatial.push(Entry::Mode(m));
            }
        }
        for &m in &local_modes {
            if m >= n {
                return Err(fail(format!(
                    "local entry {m} is not a mode id (there are {n} modes)"
                )));
            }
            if seen[m] {
                return Err(fail(format!("mode {m} appears twice")));
            }
            seen[m] = true;
        }
        if let Some(m) = seen.iter().position(|&s| !s) {
            return Err(fail(format!(
                "mode {m} appears in neither the spatial nor the local list"
            )));
        }
        // Threads and slots must be countable.
        let mut threads: usize = 1;
        for e in &spatial {
            let s = match *e {
                Entry::Mode(m) => mode_shape[m],
                Entry::Rep(r) => r,
            };
            threads = threads
                .checked_mul(s)
                .ok_or_else(|| fail("the number of threads overflows".to_string()))?;
        }
        let mut elements: usize = 1;
        for &s in &shape {
            elements = elements
                .checked_mul(s)
                .ok_or_else(|| fail("the number of elements overflows".to_string()))?;
        }
        // Group the non-trivial modes into dimensions.
        let mut dims = Vec::with_capacity(shape.len());
        let mut next = 0;
        for (d, &s) in shape.iter().enumerate() {
            let mut group = Vec::new();
            let mut p: usize = 1;
            while p < s {
                while next < n && mode_shape[next] == 1 {
                    next += 1;
                }
                if next >= n {
                    return Err(fail(format!(
                        "modes run out in dimension {d}: product {p} does not reach extent {s}"
                    )));
                }
                p = p.saturating_mul(mode_shape[next]);
                group.push(next);
                next += 1;
            }
            if p != s {
                let sizes: Vec<usize> = group.iter().map(|&m| mode_shape[m]).collect();
                return Err(fail(format!(
                    "dimension {d} has extent {s} but its modes {sizes:?} multiply to {p}"
                )));
            }
            dims.push(group);
        }
        if let Some(m) = (next..n).find(|&m| mode_shape[m] != 1) {
            return Err(fail(format!(
                "mode {m} (size {}) is left over after all dimensions are filled",
                mode_shape[m]
            )));
        }
        Ok(Parts {
            shape,
            sizes: mode_shape,
            dims,
            spatial,
            local: local_modes,
        }
        .finish())
    }

    /// The working form of this layout.
    pub(crate) fn parts(&self) -> Parts {
        Parts {
            shape: self.shape.clone(),
            sizes: self.mode_shape.clone(),
            dims: self.dim_modes(),
            spatial: self
                .spatial_modes
                .iter()
                .map(|&e| {
                    if e < 0 {
                        Entry::Rep(e.unsigned_abs() as usize)
                    } else {
                        Entry::Mode(e as usize)
                    }
                })
                .collect(),
            local: self.local_modes.clone(),
        }
    }

    /// The tile shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The mode sizes (dimension-major, most significant first within a dimension).
    pub fn mode_shape(&self) -> &[usize] {
        &self.mode_shape
    }

    /// The spatial list: mode ids, or `-r` for a replication digit of size `r`.
    pub fn spatial_modes(&self) -> &[i64] {
        &self.spatial_modes
    }

    /// The local list: mode ids.
    pub fn local_modes(&self) -> &[usize] {
        &self.local_modes
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of threads T (replication digits included).
    pub fn num_threads(&self) -> usize {
        prod(self.spatial_sizes())
    }

    /// Number of register slots per thread L.
    pub fn local_size(&self) -> usize {
        prod(self.local_modes.iter().map(|&m| self.mode_shape[m]))
    }

    /// Number of elements of the tile.
    pub fn num_elements(&self) -> usize {
        prod(self.shape.iter().copied())
    }

    /// The sizes of the spatial entries, most significant first.
    pub fn spatial_sizes(&self) -> Vec<usize> {
        self.spatial_modes
            .iter()
            .map(|&e| {
                if e < 0 {
                    e.unsigned_abs() as usize
                } else {
                    self.mode_shape[e as usize]
                }
            })
            .collect()
    }

    /// The sizes of the local entries, most significant first.
    pub fn local_sizes(&self) -> Vec<usize> {
        self.local_modes
            .iter()
            .map(|&m| self.mode_shape[m])
            .collect()
    }

    /// The mode ids of each dimension, most significant first.
    pub fn dim_modes(&self) -> Vec<Vec<usize>> {
        // Canonical modes are all > 1, so each dimension takes the next modes until their
        // product reaches its extent.
        let mut out = Vec::with_capacity(self.shape.len());
        let mut next = 0;
        for &s in &self.shape {
            let mut group = Vec::new();
            let mut p: usize = 1;
            while p < s && next < self.mode_shape.len() {
                p = p.saturating_mul(self.mode_shape[next]);
                group.push(next);
                next += 1;
            }
            out.push(group);
        }
        out
    }

    /// Whether some element is held by more than one thread (a replication digit exists).
    pub fn is_replicated(&self) -> bool {
        self.spatial_modes.iter().any(|&e| e < 0)
    }

    /// The canonical form. Values are always canonical, so this is a clone; it exists so
    /// that code can say what it relies on.
    pub fn canonical(&self) -> Self {
        self.parts().finish()
    }

    /// Per-mode digits of a thread (replication digits ignored) into `digits`.
    fn thread_digits(&self, thread: usize, digits: &mut [usize]) {
        let mut t = thread;
        for &e in self.spatial_modes.iter().rev() {
            if e < 0 {
                t /= e.unsigned_abs() as usize;
            } else {
                let s = self.mode_shape[e as usize];
                digits[e as usize] = t % s;
                t /= s;
            }
        }
    }

    /// Per-mode digits of a slot into `digits`.
    fn slot_digits(&self, slot: usize, digits: &mut [usize]) {
        let mut l = slot;
        for &m in self.local_modes.iter().rev() {
            let s = self.mode_shape[m];
            digits[m] = l % s;
            l /= s;
        }
    }

    /// Per-mode digits of a (checked) index.
    fn index_digits(&self, index: &[usize]) -> Vec<usize> {
        let mut digits = vec![0; self.mode_shape.len()];
        for (modes, &i) in self.dim_modes().iter().zip(index) {
            let mut x = i;
            for &m in modes.iter().rev() {
                let s = self.mode_shape[m];
                digits[m] = x % s;
                x /= s;
            }
        }
        digits
    }

    fn check_index(&self, index: &[usize]) -> Result<(), LayoutError> {
        let err = |reason: String| LayoutError::IndexOutOfRange {
            index: index.to_vec(),
            shape: self.shape.clone(),
            reason,
        };
        if index.len() != self.shape.len() {
            return Err(err(format!(
                "the index has {} coordinates but the layout has rank {}",
                index.len(),
                self.shape.len()
            )));
        }
        if let Some(d) = (0..index.len()).find(|&d| index[d] >= self.shape[d]) {
            return Err(err(format!(
                "coordinate {} in dimension {d} is not below the extent {}",
                index[d], self.shape[d]
            )));
        }
        Ok(())
    }

    /// f(thread, slot): the index held by `thread` in register `slot`.
    pub fn index_of(&self, thread: usize, slot: usize) -> Result<Vec<usize>, LayoutError> {
        let num_threads = self.num_threads();
        if thread >= num_threads {
            return Err(LayoutError::ThreadOutOfRange {
                thread,
                num_threads,
                layout: show(self),
            });
        }
        let local_size = self.local_size();
        if slot >= local_size {
            return Err(LayoutError::SlotOutOfRange {
                slot,
                local_size,
                layout: show(self),
            });
        }
        let mut digits = vec![0; self.mode_shape.len()];
        self.thread_digits(thread, &mut digits);
        self.slot_digits(slot, &mut digits);
        Ok(self
            .dim_modes()
            .iter()
            .map(|modes| {
                modes
                    .iter()
                    .fold(0usize, |acc, &m| acc * self.mode_shape[m] + digits[m])
            })
            .collect())
    }

    /// The register slot in which (every holder of) `index` keeps it.
    pub fn slot_of(&self, index: &[usize]) -> Result<usize, LayoutError> {
        self.check_index(index)?;
        let digits = self.index_digits(index);
        Ok(self
            .local_modes
            .iter()
            .fold(0usize, |acc, &m| acc * self.mode_shape[m] + digits[m]))
    }

    /// All threads holding `index`, ascending.
    pub fn threads_of(&self, index: &[usize]) -> Result<Vec<usize>, LayoutError> {
        self.check_index(index)?;
        let digits = self.index_digits(index);
        // Base thread (replication digits 0) and the stride of each replication digit.
        let mut base = 0usize;
        let mut stride = 1usize;
        let mut reps = Vec::new();
        for &e in self.spatial_modes.iter().rev() {
            if e < 0 {
                let r = e.unsigned_abs() as usize;
                reps.push((stride, r));
                stride = stride.saturating_mul(r);
            } else {
                let m = e as usize;
                base += digits[m] * stride;
                stride = stride.saturating_mul(self.mode_shape[m]);
            }
        }
        let mut threads = vec![base];
        for (st, r) in reps {
            threads = threads
                .iter()
                .flat_map(|&t| (0..r).map(move |k| t + k * st))
                .collect();
        }
        threads.sort_unstable();
        Ok(threads)
    }

    /// Whether `thread` holds `index` (false for out-of-range arguments).
    pub fn holds(&self, thread: usize, index: &[usize]) -> bool {
        if self.check_index(index).is_err() || thread >= self.num_threads() {
            return false;
        }
        let want = self.index_digits(index);
        let mut got = want.clone();
        self.thread_digits(thread, &mut got);
        self.spatial_modes
            .iter()
            .filter(|&&e| e >= 0)
            .all(|&e| got[e as usize] == want[e as usize])
    }
}
