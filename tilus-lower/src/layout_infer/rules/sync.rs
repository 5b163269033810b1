//! `sync`, `lock_semaphore`, `release_semaphore`: no register or shared tensors, so no
//! layouts to infer or check.

use super::Assign;
use crate::layout_infer::LayoutInferError;

/// Nothing to propose.
pub(super) fn infer() -> Result<Vec<Assign>, LayoutInferError> {
    Ok(Vec::new())
}

/// Nothing to check.
pub(super) fn validate() -> Result<(), LayoutInferError> {
    Ok(())
}
