//! `copy_async`, `commit_group`, `wait_group`, `wait_all`.
//!
//! A `copy_async` reads its global tile when it is issued (masked like `load_global`) and
//! parks the data in the block's open group; `commit_group` closes the open group;
//! `wait_group(n)` completes every committed group but the newest `n`; `wait_all` completes
//! everything, the open group included. Completing a copy writes its data into the shared
//! tile and counts as a write for race detection (a `sync` is needed before a `load_shared`).

use std::mem;

use crate::expr::ExprId;
use crate::program::TensorId;

use super::buffers::{read_window, Window};
use super::error::InterpError;
use super::exec::{Cx, PendingCopy};

/// `copy_async`: issue a global → shared copy.
pub(super) fn copy_async(
    cx: &mut Cx<'_, '_>,
    dst: TensorId,
    src: TensorId,
    offsets: &[ExprId],
    dims: Option<&[usize]>,
) -> Result<(), InterpError> {
    let r = cx.shared(dst)?;
    cx.shared_write(dst, &r, true)?;
    let offs = cx.indices(offsets)?;
    let g = cx.global(src)?;
    let w = Window::new(g, &offs, dims, &r.shape)?;
    let data = read_window(&cx.l.mem, &w)?;
    let (lo, hi) = r.range();
    cx.b.open_group.push(PendingCopy {
        alloc: r.alloc,
        lo,
        hi,
        data,
        inst: cx.id,
    });
    Ok(())
}

/// `commit_group`: close the open group (an empty group counts too).
pub(super) fn commit_group(cx: &mut Cx<'_, '_>) -> Result<(), InterpError> {
    let g = mem::take(&mut cx.b.open_group);
    cx.b.groups.push_back(g);
    Ok(())
}

fn complete(cx: &mut Cx<'_, '_>, group: Vec<PendingCopy>) {
    let via = cx.id;
    for p in group {
        if let Some(a) = cx.b.shared.get_mut(p.alloc) {
            if let Some(d) = a.data.get_mut(p.lo..p.hi) {
                if d.len() == p.data.len() {
                    d.copy_from_slice(&p.data);
                }
            }
            a.race.record_write(p.lo, p.hi, p.inst, Some(via));
        }
    }
}

/// `wait_group(n)`: complete all committed groups but the newest `n`.
pub(super) fn wait_group(cx: &mut Cx<'_, '_>, n: u32) -> Result<(), InterpError> {
    while cx.b.groups.len() > n as usize {
        if let Some(g) = cx.b.groups.pop_front() {
            complete(cx, g);
        }
    }
    Ok(())
}

/// `wait_all`: complete every copy issued so far, committed or not.
pub(super) fn wait_all(cx: &mut Cx<'_, '_>) -> Result<(), InterpError> {
    while let Some(g) = cx.b.groups.pop_front() {
        complete(cx, g);
    }
    let open = mem::take(&mut cx.b.open_group);
    complete(cx, open);
    Ok(())
}
