//! `sync`, `lock_semaphore`, `release_semaphore`.
//!
//! `sync` is the block-wide barrier: it forgets the shared-memory accesses recorded for race
//! detection. `lock_semaphore(sem[i], v)` suspends the block until the `i32` element equals
//! `v` (the scheduler resumes it after another block changed memory); `release_semaphore`
//! stores `v`. Semaphore indices are not masked: an index outside the tensor is an error.

use crate::expr::{ExprId, ScalarType};
use crate::program::TensorId;

use super::buffers::element_offset;
use super::error::{fail, InterpError, InterpErrorKind};
use super::exec::{Cx, Flow, WaitInfo};
use super::scalar::Val;

/// `sync`.
pub(super) fn sync(cx: &mut Cx<'_, '_>) -> Result<(), InterpError> {
    for a in &mut cx.b.shared {
        a.race.clear();
    }
    Ok(())
}

fn semaphore(
    cx: &Cx<'_, '_>,
    sem: TensorId,
    index: &[ExprId],
    value: ExprId,
) -> Result<(usize, usize, i64, Vec<i64>), InterpError> {
    let idx = cx.indices(index)?;
    let g = cx.global(sem)?;
    let off = element_offset(&cx.l.mem, g, &idx, "semaphore")?;
    let v = match cx.eval().eval_as(value, ScalarType::I32)? {
        Val::Int(v) => v,
        other => {
            return fail(
                InterpErrorKind::InvalidValue,
                format!("semaphore value must be an integer, got {other:?}"),
            )
        }
    };
    Ok((g.buf, off, v, idx))
}

/// The current value of an `i32` semaphore element.
pub(super) fn read_semaphore(mem: &super::buffers::Memory, buf: usize, off: usize) -> i64 {
    mem.bufs
        .get(buf)
        .and_then(|b| b.get(off).map(|c| b.dtype.int_value(c)))
        .unwrap_or(0)
}

/// `lock_semaphore`: go on when `sem[index] == value`, else suspend the block.
pub(super) fn lock_semaphore(
    cx: &mut Cx<'_, '_>,
    sem: TensorId,
    index: &[ExprId],
    value: ExprId,
) -> Result<Flow, InterpError> {
    let (buf, offset, value, idx) = semaphore(cx, sem, index, value)?;
    if read_semaphore(&cx.l.mem, buf, offset) == value {
        return Ok(Flow::Next);
    }
    Ok(Flow::Wait(WaitInfo {
        buf,
        offset,
        value,
        inst: cx.id,
        what: format!("{}{idx:?}", cx.name(sem)),
    }))
}

/// `release_semaphore`: `sem[index] = value`.
pub(super) fn release_semaphore(
    cx: &mut Cx<'_, '_>,
    sem: TensorId,
    index: &[ExprId],
    value: ExprId,
) -> Result<(), InterpError> {
    let (buf, offset, value, _) = semaphore(cx, sem, index, value)?;
    match cx.l.mem.bufs.get_mut(buf) {
        Some(b) => {
            let code = b.dtype.wrap_int(value);
            b.set(offset, code)
        }
        None => fail(InterpErrorKind::InvalidProgram, "unknown buffer"),
    }
}
