//! Race and wait checking on shared memory: how a missing `sync` or a missing
//! `wait_group` is caught on the CPU.
//!
//! Every shared allocation remembers the regions (element ranges of the allocation; a slice
//! such as one stage of a multi-stage buffer is its own range) written and read since the
//! last `sync`. A read of a region written since the last `sync` is a race, and so is a write
//! of a region read since then: the tile program does not say which thread holds which
//! element, so another thread may own it. A region with a `copy_async` still pending (not
//! completed by a `wait_group`/`wait_all`) may not be read, written, copied into again or
//! freed. Two writes of a region with no `sync` between are not flagged.

use crate::program::{InstId, TensorId};

use super::error::{fail, InterpError, InterpErrorKind};
use super::exec::{Cx, PendingCopy};
use super::tile::SharedRef;

/// One access of a region since the last `sync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Access {
    lo: usize,
    hi: usize,
    /// The instruction that read or wrote.
    inst: InstId,
    /// For writes by `copy_async`: the wait that completed it.
    via: Option<InstId>,
}

/// The accesses of one allocation since the last `sync`.
#[derive(Clone, Debug, Default)]
pub(crate) struct RaceState {
    writes: Vec<Access>,
    reads: Vec<Access>,
}

fn overlaps(a: &Access, lo: usize, hi: usize) -> bool {
    a.lo < hi && lo < a.hi
}

fn record(list: &mut Vec<Access>, a: Access) {
    if !list.contains(&a) {
        list.push(a);
    }
}

impl RaceState {
    /// Forgets every access (a `sync`).
    pub fn clear(&mut self) {
        self.writes.clear();
        self.reads.clear();
    }

    /// Records a write of `[lo, hi)` by `inst` (completed by `via` for async copies).
    pub fn record_write(&mut self, lo: usize, hi: usize, inst: InstId, via: Option<InstId>) {
        record(&mut self.writes, Access { lo, hi, inst, via });
    }
}

impl Cx<'_, '_> {
    fn pending_overlap(&self, alloc: usize, lo: usize, hi: usize) -> Option<&PendingCopy> {
        self.b
            .open_group
            .iter()
            .chain(self.b.groups.iter().flatten())
            .find(|p| p.alloc == alloc && p.lo < hi && lo < p.hi)
    }

    fn describe_write(&self, a: &Access) -> String {
        match a.via {
            Some(w) => format!(
                "{} and completed by {}",
                self.l.describe(a.inst),
                self.l.describe(w)
            ),
            None => self.l.describe(a.inst),
        }
    }

    /// Checks that the region of `t` has no pending copy; `doing` says what the current
    /// instruction does to it (`reads`, `writes`, …).
    pub fn check_no_pending(
        &self,
        t: TensorId,
        r: &SharedRef,
        doing: &str,
    ) -> Result<(), InterpError> {
        let (lo, hi) = r.range();
        if let Some(p) = self.pending_overlap(r.alloc, lo, hi) {
            return fail(
                InterpErrorKind::MissingWait,
                format!(
                    "{} {doing} {} filled by {} with no wait_group/wait_all covering it",
                    self.l.describe(self.id),
                    self.name(t),
                    self.l.describe(p.inst)
                ),
            );
        }
        Ok(())
    }

    /// Checks and records a read of shared tensor `t` (region `r`) by this instruction.
    pub fn shared_read(&mut self, t: TensorId, r: &SharedRef) -> Result<(), InterpError> {
        self.check_no_pending(t, r, "reads")?;
        let (lo, hi) = r.range();
        let Some(alloc) = self.b.shared.get(r.alloc) else {
            return fail(InterpErrorKind::InvalidProgram, "unknown shared allocation");
        };
        if let Some(w) = alloc.race.writes.iter().find(|a| overlaps(a, lo, hi)) {
            return fail(
                InterpErrorKind::MissingSync,
                format!(
                    "missing sync: {} written by {} is read by {} with no sync between",
                    self.name(t),
                    self.describe_write(w),
                    self.l.describe(self.id)
                ),
            );
        }
        let inst = self.id;
        if let Some(alloc) = self.b.shared.get_mut(r.alloc) {
            record(
                &mut alloc.race.reads,
                Access {
                    lo,
                    hi,
                    inst,
                    via: None,
                },
            );
        }
        Ok(())
    }

    /// Checks a write of shared tensor `t` (region `r`) by this instruction against pending
    /// copies and reads since the last `sync`; records it unless `deferred` (async copies
    /// record their write when they complete).
    pub fn shared_write(
        &mut self,
        t: TensorId,
        r: &SharedRef,
        deferred: bool,
    ) -> Result<(), InterpError> {
        self.check_no_pending(t, r, "writes")?;
        let (lo, hi) = r.range();
        let Some(alloc) = self.b.shared.get(r.alloc) else {
            return fail(InterpErrorKind::InvalidProgram, "unknown shared allocation");
        };
        if let Some(rd) = alloc.race.reads.iter().find(|a| overlaps(a, lo, hi)) {
            return fail(
                InterpErrorKind::MissingSync,
                format!(
                    "missing sync: {} read by {} is overwritten by {} with no sync between",
                    self.name(t),
                    self.l.describe(rd.inst),
                    self.l.describe(self.id)
                ),
            );
        }
        if !deferred {
            let inst = self.id;
            if let Some(alloc) = self.b.shared.get_mut(r.alloc) {
                alloc.race.record_write(lo, hi, inst, None);
            }
        }
        Ok(())
    }
}
