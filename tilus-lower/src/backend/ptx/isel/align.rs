//! Alignment facts: the largest power of two an `i32` index provably is a multiple of,
//! from constants, `*`, `+`, `<<`, `>>`, masks, the kernel's `assume`s and loop variables
//! (start and step both multiples). Vector memory accesses need it: a 16-byte
//! `ld.v4` must start at a multiple of 4 words.

use std::collections::HashMap;

use crate::thread_ir::{BinaryOp, Const, Expr, ExprId, Stmt, ThreadKernel, Ty};

/// The largest multiple tracked (large, so that a shift right keeps what it can).
const CAP: u64 = 1 << 20;

fn pow2_of(v: i64) -> u64 {
    if v == 0 {
        CAP
    } else {
        (1u64 << v.unsigned_abs().trailing_zeros().min(20)).min(CAP)
    }
}

/// Alignment facts of one kernel.
pub(crate) struct Align {
    vars: Vec<u64>,
    params: HashMap<u32, u64>,
    memo: HashMap<ExprId, u64>,
}

impl Align {
    pub(crate) fn new(k: &ThreadKernel) -> Align {
        let params = k
            .assumptions
            .iter()
            .map(|&(p, d)| (p, pow2_of(i64::from(d))))
            .collect();
        let mut a = Align {
            vars: vec![1; k.vars.len()],
            params,
            memo: HashMap::new(),
        };
        // Loop variables written only by their loops: multiples of each loop's start and
        // step. The greatest fixpoint from "multiple of 16" is sound by induction over the
        // execution (every write is a start or a step, and variables start at zero).
        let mut assigned = vec![false; k.vars.len()];
        let mut loops = Vec::new();
        scan(&k.body, &mut assigned, &mut loops);
        for &(v, _, _) in &loops {
            if !assigned.get(v).copied().unwrap_or(true) {
                a.vars[v] = CAP;
            }
        }
        let mut changed = true;
        while changed {
            changed = false;
            for &(v, start, step) in &loops {
                if assigned.get(v).copied().unwrap_or(true) {
                    continue;
                }
                let m = a.multiple(k, start).min(a.multiple(k, step));
                if m < a.vars[v] {
                    a.vars[v] = m;
                    a.memo.clear();
                    changed = true;
                }
            }
        }
        a
    }

    /// The largest power of two that `e` is provably a multiple of.
    pub(crate) fn multiple(&mut self, k: &ThreadKernel, e: ExprId) -> u64 {
        if let Some(m) = self.memo.get(&e) {
            return *m;
        }
        let m = match k.exprs.try_get(e) {
            Some(Expr::Const(Const::I32(v))) => pow2_of(i64::from(*v)),
            Some(Expr::Const(Const::U32(v))) => pow2_of(i64::from(*v)),
            Some(Expr::Param(i)) => self.params.get(i).copied().unwrap_or(1),
            Some(Expr::Var(v)) => self.vars.get(v.index()).copied().unwrap_or(1),
            Some(Expr::Binary(op, a, b)) => {
                let (a, b) = (*a, *b);
                match op {
                    BinaryOp::Mul => (self.multiple(k, a) * self.multiple(k, b)).min(CAP),
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Or | BinaryOp::Xor => {
                        self.multiple(k, a).min(self.multiple(k, b))
                    }
                    BinaryOp::And => self.multiple(k, a).max(self.multiple(k, b)),
                    BinaryOp::Shl => match k.exprs.try_get(b) {
                        Some(Expr::Const(Const::I32(s))) if (0..32).contains(s) => {
                            (self.multiple(k, a) << s.min(&20)).min(CAP)
                        }
                        Some(Expr::Const(Const::U32(s))) if *s < 32 => {
                            (self.multiple(k, a) << (*s).min(20)).min(CAP)
                        }
                        _ => 1,
                    },
                    // A multiple of 2^(s+j) shifted right by s is a multiple of 2^j.
                    BinaryOp::Shr => match k.exprs.try_get(b) {
                        Some(Expr::Const(Const::I32(s))) if (0..32).contains(s) => {
                            (self.multiple(k, a) >> s).max(1)
                        }
                        Some(Expr::Const(Const::U32(s))) if *s < 32 => {
                            (self.multiple(k, a) >> s).max(1)
                        }
                        _ => 1,
                    },
                    _ => 1,
                }
            }
            Some(Expr::Select(_, a, b)) => {
                let (a, b) = (*a, *b);
                self.multiple(k, a).min(self.multiple(k, b))
            }
            Some(Expr::Cast(Ty::I32 | Ty::U32, a) | Expr::Bitcast(Ty::I32 | Ty::U32, a))
                if k.ty(*a).is_some_and(|t| t.is_int()) =>
            {
                self.multiple(k, *a)
            }
            _ => 1,
        };
        self.memo.insert(e, m);
        m
    }
}

fn scan(body: &[Stmt], assigned: &mut [bool], loops: &mut Vec<(usize, ExprId, ExprId)>) {
    for s in body {
        match s {
            Stmt::Assign { var, .. } => {
                if let Some(a) = assigned.get_mut(var.index()) {
                    *a = true;
                }
            }
            Stmt::For {
                var,
                start,
                step,
                body,
                ..
            } => {
                loops.push((var.index(), *start, *step));
                scan(body, assigned, loops);
            }
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                scan(then_body, assigned, loops);
                scan(else_body, assigned, loops);
            }
            _ => {}
        }
    }
}
