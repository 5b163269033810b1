//! The expression operands of nodes and statements, read and mapped in one fixed order:
//! what every pass that walks the thread IR's expressions shares.

use super::{Expr, ExprId, MemRef, Stmt};

impl Expr {
    /// The operands of the node, in order (none for leaves).
    pub fn operands(&self) -> Vec<ExprId> {
        match *self {
            Expr::Const(_)
            | Expr::Param(_)
            | Expr::Special(_)
            | Expr::Var(_)
            | Expr::Local { .. } => Vec::new(),
            Expr::Unary(_, a)
            | Expr::Cast(_, a)
            | Expr::Bitcast(_, a)
            | Expr::Decode(_, a)
            | Expr::Encode(_, a) => vec![a],
            Expr::Binary(_, a, b) => vec![a, b],
            Expr::Select(a, b, c) | Expr::Fma(a, b, c) => vec![a, b, c],
        }
    }
}

impl Stmt {
    /// The expressions the statement evaluates itself (not those of nested bodies), in a
    /// fixed order: values, then memory indices, then masks.
    pub fn operands(&self) -> Vec<ExprId> {
        match self {
            Stmt::Assign { value, .. } | Stmt::SetLocal { value, .. } => vec![*value],
            Stmt::Load { src: m, mask, .. } | Stmt::Store { dst: m, mask, .. } => {
                std::iter::once(m.index).chain(*mask).collect()
            }
            Stmt::CopyAsync { dst, src, mask, .. } => {
                [dst.index, src.index].into_iter().chain(*mask).collect()
            }
            Stmt::LdMatrix { row, .. } => vec![*row],
            Stmt::Shuffle { value, lane, .. } => vec![*value, *lane],
            Stmt::SemAcquire { sem, value }
            | Stmt::SemRelease { sem, value }
            | Stmt::Atomic {
                dst: sem, value, ..
            } => vec![sem.index, *value],
            Stmt::For {
                start, end, step, ..
            } => vec![*start, *end, *step],
            Stmt::If { cond, .. } => vec![*cond],
            Stmt::View { .. }
            | Stmt::CommitGroup
            | Stmt::WaitGroup(_)
            | Stmt::WaitAll
            | Stmt::Barrier
            | Stmt::SharedBarrier
            | Stmt::Mma { .. } => Vec::new(),
        }
    }
}

impl Stmt {
    /// The statement with each of its own expression operands (those of
    /// [`Stmt::operands`], not of nested bodies) replaced by `f`, in that order.
    pub fn map_operands(self, mut f: impl FnMut(ExprId) -> ExprId) -> Stmt {
        let mem = |m: MemRef, f: &mut dyn FnMut(ExprId) -> ExprId| MemRef {
            space: m.space,
            index: f(m.index),
        };
        match self {
            Stmt::Assign { var, value } => Stmt::Assign {
                var,
                value: f(value),
            },
            Stmt::SetLocal { dst, value } => Stmt::SetLocal {
                dst,
                value: f(value),
            },
            Stmt::Load {
                dst,
                src,
                width,
                mask,
            } => Stmt::Load {
                dst,
                src: mem(src, &mut f),
                width,
                mask: mask.map(&mut f),
            },
            Stmt::Store {
                dst,
                src,
                width,
                mask,
            } => Stmt::Store {
                dst: mem(dst, &mut f),
                src,
                width,
                mask: mask.map(&mut f),
            },
            Stmt::CopyAsync {
                dst,
                src,
                width,
                mask,
            } => Stmt::CopyAsync {
                dst: mem(dst, &mut f),
                src: mem(src, &mut f),
                width,
                mask: mask.map(&mut f),
            },
            Stmt::Atomic { op, dst, value } => Stmt::Atomic {
                op,
                dst: mem(dst, &mut f),
                value: f(value),
            },
            Stmt::SemAcquire { sem, value } => Stmt::SemAcquire {
                sem: mem(sem, &mut f),
                value: f(value),
            },
            Stmt::SemRelease { sem, value } => Stmt::SemRelease {
                sem: mem(sem, &mut f),
                value: f(value),
            },
            Stmt::LdMatrix {
                src,
                row,
                num,
                trans,
                dst,
            } => Stmt::LdMatrix {
                src,
                row: f(row),
                num,
                trans,
                dst,
            },
            Stmt::Shuffle { dst, value, lane } => {
                let (value, lane) = (f(value), f(lane));
                Stmt::Shuffle { dst, value, lane }
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let (start, end, step) = (f(start), f(end), f(step));
                Stmt::For {
                    var,
                    start,
                    end,
                    step,
                    body,
                }
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => Stmt::If {
                cond: f(cond),
                then_body,
                else_body,
            },
            other @ (Stmt::View { .. }
            | Stmt::CommitGroup
            | Stmt::WaitGroup(_)
            | Stmt::WaitAll
            | Stmt::Barrier
            | Stmt::SharedBarrier
            | Stmt::Mma { .. }) => other,
        }
    }
}
