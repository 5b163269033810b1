//! `annotate_layout`, `annotate_shared_layout`, `print`: layouts were consumed by inference
//! and debug prints belong to the tile interpreter, so none of them produces thread code.

use super::{Lower, R};

/// Annotations and prints.
pub(super) fn annotate(_cx: &mut Lower<'_>) -> R<()> {
    Ok(())
}
