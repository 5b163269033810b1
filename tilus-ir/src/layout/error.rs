//! Errors of the layout algebra.

use super::RegisterLayout;

/// Why a layout could not be built, queried or transformed.
///
/// Every message says what was asked and why it is impossible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The raw constructor got lists that do not describe a layout.
    #[error("invalid register layout (shape={shape:?}, modes={modes:?}, spatial={spatial:?}, local={local:?}): {reason}")]
    InvalidLayout {
        /// The requested shape.
        shape: Vec<usize>,
        /// The requested mode sizes.
        modes: Vec<usize>,
        /// The requested spatial list.
        spatial: Vec<i64>,
        /// The requested local list.
        local: Vec<usize>,
        /// What is wrong with them.
        reason: String,
    },
    /// A primitive got a zero extent.
    #[error("{primitive}{shape:?}: extent 0 in dimension {dim} (every extent must be at least 1)")]
    ZeroExtent {
        /// Which primitive.
        primitive: &'static str,
        /// Its shape.
        shape: Vec<usize>,
        /// The offending dimension.
        dim: usize,
    },
    /// A `ranks=[...]` argument is not a permutation of `0..rank`.
    #[error("bad ranks {ranks:?} for shape {shape:?}: {reason}")]
    BadRanks {
        /// The shape.
        shape: Vec<usize>,
        /// The ranks given.
        ranks: Vec<usize>,
        /// What is wrong.
        reason: String,
    },
    /// A product of extents does not fit in `usize`.
    #[error("layout too large: {what} overflows")]
    Overflow {
        /// What overflowed.
        what: String,
    },
    /// `index_of` got a thread number outside `0..num_threads`.
    #[error("thread {thread} out of range: {layout} has {num_threads} threads")]
    ThreadOutOfRange {
        /// The thread asked for.
        thread: usize,
        /// The layout's thread count.
        num_threads: usize,
        /// The layout.
        layout: String,
    },
    /// `index_of` got a slot outside `0..local_size`.
    #[error("slot {slot} out of range: {layout} has {local_size} slots per thread")]
    SlotOutOfRange {
        /// The slot asked for.
        slot: usize,
        /// The layout's local size.
        local_size: usize,
        /// The layout.
        layout: String,
    },
    /// An index has the wrong rank or an entry outside the shape.
    #[error("index {index:?} out of range for shape {shape:?}: {reason}")]
    IndexOutOfRange {
        /// The index.
        index: Vec<usize>,
        /// The layout's shape.
        shape: Vec<usize>,
        /// What is wrong.
        reason: String,
    },
    /// A dimension list given to `reduce`, `permute`, `squeeze` or `unsqueeze` is invalid.
    #[error("{op}(dims={dims:?}) on {layout}: {reason}")]
    BadDims {
        /// The operation.
        op: &'static str,
        /// The dims given.
        dims: Vec<usize>,
        /// The layout.
        layout: String,
        /// What is wrong.
        reason: String,
    },
    /// `reshape` cannot produce the requested shape.
    #[error("cannot reshape {layout} to {shape:?}: {reason}")]
    Reshape {
        /// The layout.
        layout: String,
        /// The requested shape.
        shape: Vec<usize>,
        /// Why.
        reason: String,
    },
    /// `L / R`: there is no Q with `L = Q * R`.
    #[error("{lhs} does not divide by {rhs}: {reason}")]
    NotDivisible {
        /// L.
        lhs: String,
        /// R.
        rhs: String,
        /// Why.
        reason: String,
    },
    /// `left_divide(L, D)`: there is no Q with `L = D * Q`.
    #[error("{lhs} does not left-divide by {rhs}: {reason}")]
    NotLeftDivisible {
        /// L.
        lhs: String,
        /// D.
        rhs: String,
        /// Why.
        reason: String,
    },
    /// An atom was asked for with unsupported parameters.
    #[error("unsupported atom {atom}: {reason}")]
    UnsupportedAtom {
        /// The atom.
        atom: String,
        /// Why.
        reason: String,
    },
}

thread_local! {
    /// Set while [`show`] runs the printer, so that a printer which itself hits a layout
    /// error cannot recurse forever.
    static IN_SHOW: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// How error messages print a layout: the canonical expression (`Display`, text.rs), or the
/// raw `register_layout(...)` form when called from inside the printer.
pub(crate) fn show(layout: &RegisterLayout) -> String {
    if IN_SHOW.with(|f| f.replace(true)) {
        return raw(layout);
    }
    let s = layout.to_string();
    IN_SHOW.with(|f| f.set(false));
    s
}

/// The raw constructor form of a layout.
fn raw(layout: &RegisterLayout) -> String {
    let join = |v: Vec<String>| v.join(", ");
    format!(
        "register_layout(shape=[{}], modes=[{}], spatial=[{}], local=[{}])",
        join(layout.shape().iter().map(|x| x.to_string()).collect()),
        join(layout.mode_shape().iter().map(|x| x.to_string()).collect()),
        join(
            layout
                .spatial_modes()
                .iter()
                .map(|x| x.to_string())
                .collect()
        ),
        join(layout.local_modes().iter().map(|x| x.to_string()).collect()),
    )
}
