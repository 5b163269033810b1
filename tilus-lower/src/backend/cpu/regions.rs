//! Where a block's threads must stop for each other, and what each stretch between barriers
//! touches.
//!
//! A *cell* is the 4-byte home of one variable or one local slot in a thread's frame. A
//! stretch of statements without a barrier runs as a thread loop; the cells it reads are
//! loaded from the frame when a thread starts the stretch and the cells it writes are stored
//! back when it ends it (only in kernels with barriers; without one, nothing outlives a
//! thread loop and cells are never stored).

use std::collections::BTreeSet;

use crate::error::LowerError;
use crate::thread_ir::{Expr, ExprId, LocalId, LocalRef, Stmt, ThreadKernel, VarId};

/// Cell numbers of the variables and local slots of a kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellMap {
    var_cell: Vec<u32>,
    local_base: Vec<u32>,
    local_len: Vec<u32>,
    /// Number of cells.
    pub total: u32,
}

/// Most cells a kernel may have (per thread): 16 Mi, far above any register budget.
const MAX_CELLS: u64 = 1 << 24;

impl CellMap {
    /// Variables first, then the slots of each local array in order.
    pub fn of(k: &ThreadKernel) -> Result<CellMap, LowerError> {
        let mut next: u64 = 0;
        let mut var_cell = Vec::with_capacity(k.vars.len());
        for _ in k.vars.iter() {
            var_cell.push(next as u32);
            next += 1;
        }
        let mut local_base = Vec::with_capacity(k.locals.len());
        let mut local_len = Vec::with_capacity(k.locals.len());
        for (_, a) in k.locals.iter() {
            local_base.push(next as u32);
            local_len.push(a.len);
            next += u64::from(a.len);
            if next > MAX_CELLS {
                return Err(LowerError::Unsupported {
                    inst: format!("local array %{}", a.name),
                    reason: format!("more than {MAX_CELLS} registers per thread"),
                });
            }
        }
        Ok(CellMap {
            var_cell,
            local_base,
            local_len,
            total: next as u32,
        })
    }

    /// The cell of a variable.
    pub fn var(&self, v: VarId) -> Result<u32, LowerError> {
        self.var_cell
            .get(v.index())
            .copied()
            .ok_or_else(|| LowerError::InvalidProgram(format!("variable {v:?} dangles")))
    }

    /// The cell of slot `slot` of `array`.
    pub fn slot(&self, array: LocalId, slot: u32) -> Result<u32, LowerError> {
        let i = array.index();
        match (self.local_base.get(i), self.local_len.get(i)) {
            (Some(&base), Some(&len)) if slot < len => Ok(base + slot),
            (Some(_), Some(&len)) => Err(LowerError::InvalidProgram(format!(
                "slot {slot} of a local array of {len} slots"
            ))),
            _ => Err(LowerError::InvalidProgram(format!(
                "local array {array:?} dangles"
            ))),
        }
    }

    /// The cell of a local reference offset by `i` slots.
    pub fn at(&self, r: LocalRef, i: u32) -> Result<u32, LowerError> {
        let slot = r
            .slot
            .checked_add(i)
            .ok_or_else(|| LowerError::InvalidProgram("slot index overflows".into()))?;
        self.slot(r.array, slot)
    }

    /// The slots of an array.
    pub fn len(&self, array: LocalId) -> u32 {
        self.local_len.get(array.index()).copied().unwrap_or(0)
    }
}

/// Whether a statement is or contains a barrier.
pub fn has_barrier(s: &Stmt) -> bool {
    match s {
        Stmt::Barrier | Stmt::SharedBarrier => true,
        Stmt::For { body, .. } => body.iter().any(has_barrier),
        Stmt::If {
            then_body,
            else_body,
            ..
        } => then_body.iter().chain(else_body).any(has_barrier),
        _ => false,
    }
}

/// The cells statements read and write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    /// Cells read (by expressions, or as the source of a view or store).
    pub reads: BTreeSet<u32>,
    /// Cells written.
    pub writes: BTreeSet<u32>,
}

/// What `stmts` touch, recursively.
pub fn touched(k: &ThreadKernel, cells: &CellMap, stmts: &[Stmt]) -> Result<Touched, LowerError> {
    let mut t = Touched::default();
    let mut seen = vec![false; k.exprs.len()];
    walk(k, cells, stmts, &mut t, &mut seen)?;
    Ok(t)
}

fn walk(
    k: &ThreadKernel,
    cells: &CellMap,
    stmts: &[Stmt],
    t: &mut Touched,
    seen: &mut [bool],
) -> Result<(), LowerError> {
    for s in stmts {
        match s {
            Stmt::Assign { var, value } => {
                read(k, cells, *value, t, seen)?;
                t.writes.insert(cells.var(*var)?);
            }
            Stmt::SetLocal { dst, value } => {
                read(k, cells, *value, t, seen)?;
                t.writes.insert(cells.at(*dst, 0)?);
            }
            Stmt::Load {
                dst,
                src,
                width,
                mask,
            } => {
                read(k, cells, src.index, t, seen)?;
                if let Some(m) = mask {
                    read(k, cells, *m, t, seen)?;
                }
                for i in 0..*width {
                    t.writes.insert(cells.at(*dst, i)?);
                }
            }
            Stmt::Store {
                dst,
                src,
                width,
                mask,
            } => {
                read(k, cells, dst.index, t, seen)?;
                if let Some(m) = mask {
                    read(k, cells, *m, t, seen)?;
                }
                for i in 0..*width {
                    t.reads.insert(cells.at(*src, i)?);
                }
            }
            Stmt::View { dst, src } => {
                for i in 0..cells.len(*src) {
                    t.reads.insert(cells.slot(*src, i)?);
                }
                for i in 0..cells.len(*dst) {
                    t.writes.insert(cells.slot(*dst, i)?);
                }
            }
            Stmt::Atomic { dst, value, .. } => {
                read(k, cells, dst.index, t, seen)?;
                read(k, cells, *value, t, seen)?;
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                for e in [start, end, step] {
                    read(k, cells, *e, t, seen)?;
                }
                let v = cells.var(*var)?;
                t.writes.insert(v);
                t.reads.insert(v);
                walk(k, cells, body, t, seen)?;
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                read(k, cells, *cond, t, seen)?;
                walk(k, cells, then_body, t, seen)?;
                walk(k, cells, else_body, t, seen)?;
            }
            // Statements the CPU code generator rejects, and barriers, touch no cells here.
            _ => {}
        }
    }
    Ok(())
}

fn read(
    k: &ThreadKernel,
    cells: &CellMap,
    e: ExprId,
    t: &mut Touched,
    seen: &mut [bool],
) -> Result<(), LowerError> {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match seen.get_mut(e.index()) {
            Some(true) => continue,
            Some(s) => *s = true,
            None => {
                return Err(LowerError::InvalidProgram(format!(
                    "expression {e:?} dangles"
                )))
            }
        }
        let node = k
            .exprs
            .try_get(e)
            .ok_or_else(|| LowerError::InvalidProgram(format!("expression {e:?} dangles")))?;
        match *node {
            Expr::Var(v) => {
                t.reads.insert(cells.var(v)?);
            }
            Expr::Local { array, slot } => {
                t.reads.insert(cells.slot(array, slot)?);
            }
            Expr::Const(_) | Expr::Param(_) | Expr::Special(_) => {}
            Expr::Unary(_, a)
            | Expr::Cast(_, a)
            | Expr::Bitcast(_, a)
            | Expr::Decode(_, a)
            | Expr::Encode(_, a) => stack.push(a),
            Expr::Binary(_, a, b) => stack.extend([a, b]),
            Expr::Select(a, b, c) | Expr::Fma(a, b, c) => stack.extend([a, b, c]),
        }
    }
    Ok(())
}
