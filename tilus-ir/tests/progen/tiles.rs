//! Tiles, layouts and instructions of the generator.

use super::*;

impl<'b> Gen<'b, '_> {
    pub(super) fn shape(&mut self, max_rank: usize) -> Vec<usize> {
        let rank = 1 + self.ch.below(max_rank);
        (0..rank)
            .map(|_| self.ch.pick(&[1usize, 2, 4, 8, 16]))
            .collect()
    }

    pub(super) fn dtype(&mut self) -> DType {
        self.ch.pick(&all_dtypes())
    }

    pub(super) fn fresh_reg(&mut self, dtype: DType, shape: &[usize]) -> Tile<'b> {
        let init = match self.ch.below(3) {
            0 => None,
            1 => Some(0.0),
            _ => Some(self.ch.pick(&[1.0, -3.0, 0.5, 2.0])),
        };
        let t = self.kb.alloc_register(dtype, shape, init);
        self.regs.push(t);
        t
    }

    /// A register tile of `dtype` (new or existing).
    pub(super) fn reg_of(&mut self, dtype: DType) -> Tile<'b> {
        let found: Vec<Tile<'b>> = self
            .regs
            .iter()
            .copied()
            .filter(|t| t.dtype() == dtype)
            .collect();
        if !found.is_empty() && self.ch.chance(2, 3) {
            return self.ch.pick(&found);
        }
        let shape = self.shape(3);
        self.fresh_reg(dtype, &shape)
    }

    pub(super) fn any_reg(&mut self) -> Tile<'b> {
        if !self.regs.is_empty() && self.ch.chance(3, 4) {
            return self.ch.pick(&self.regs.clone());
        }
        let d = self.dtype();
        let shape = self.shape(3);
        self.fresh_reg(d, &shape)
    }

    /// A global tensor (new or existing) of `dtype` (any when `None`) and rank at least
    /// `min_rank`, with its rank.
    pub(super) fn global(&mut self, dtype: Option<DType>, min_rank: usize) -> (Tile<'b>, usize) {
        let found: Vec<(Tile<'b>, usize)> = self
            .globals
            .iter()
            .copied()
            .filter(|(g, r)| dtype.is_none_or(|d| g.dtype() == d) && *r >= min_rank)
            .collect();
        if !found.is_empty() && self.ch.chance(2, 3) {
            return self.ch.pick(&found);
        }
        let rank = min_rank.max(1 + self.ch.below(3));
        let extents: Vec<Scalar<'b>> = (0..rank).map(|_| self.int_expr(2)).collect();
        let matching: Vec<(Pointer, DType)> = self
            .pointers
            .iter()
            .copied()
            .filter(|(_, d)| dtype.is_none_or(|x| x == *d))
            .collect();
        let g = if matching.is_empty() || self.ch.chance(1, 5) {
            let d = dtype.unwrap_or_else(|| self.dtype());
            let clean = self.ch.chance(1, 2);
            self.kb.alloc_global(d, &extents, clean)
        } else {
            let (p, _) = self.ch.pick(&matching);
            if self.ch.chance(1, 3) {
                let strides: Vec<Scalar<'b>> = (0..rank).map(|_| self.int_expr(2)).collect();
                self.kb.global_view_strided(p, &extents, &strides)
            } else {
                self.kb.global_view(p, &extents)
            }
        };
        let g = self.maybe_rename(g);
        self.globals.push((g, rank));
        (g, rank)
    }

    pub(super) fn shared(&mut self) -> Tile<'b> {
        if !self.shareds.is_empty() && self.ch.chance(2, 3) {
            return self.ch.pick(&self.shareds.clone());
        }
        let d = self.dtype();
        let shape = self.shape(3);
        let s = self.kb.alloc_shared(d, &shape);
        let s = self.maybe_rename(s);
        self.shareds.push(s);
        s
    }

    /// Sometimes gives a tensor an unusual name (quoted when printed).
    pub(super) fn maybe_rename(&mut self, t: Tile<'b>) -> Tile<'b> {
        if self.ch.chance(1, 8) {
            let name = self
                .ch
                .pick(&["my tile", "0", "x.y", "ä", "sum", "tile_with_long_name"]);
            t.named(name)
        } else {
            t
        }
    }

    /// `dims` for a tile of rank `k` in a global tensor of rank `r >= k`: `None` or a
    /// strictly increasing list.
    pub(super) fn dims(&mut self, k: usize, r: usize) -> Option<Vec<usize>> {
        if self.ch.chance(1, 2) {
            return None;
        }
        let mut all: Vec<usize> = (0..r).collect();
        while all.len() > k {
            let i = self.ch.below(all.len());
            all.remove(i);
        }
        Some(all)
    }

    /// A random register layout over `32 * warps` threads.
    pub(super) fn block_layout(&mut self) -> RegisterLayout {
        let threads = 32 * self.warps as usize;
        let rank = 1 + self.ch.below(2);
        // Split the thread count over the dimensions (powers of two).
        let mut spatial = vec![1usize; rank];
        let mut left = threads;
        while left > 1 {
            let d = self.ch.below(rank);
            spatial[d] *= 2;
            left /= 2;
        }
        let locals: Vec<usize> = (0..rank).map(|_| self.ch.pick(&[1usize, 2, 4])).collect();
        match self.ch.below(4) {
            0 => layout::local(&locals).spatial(&spatial),
            1 => layout::spatial(&spatial).local(&locals),
            2 => layout::column_spatial(&spatial).column_local(&locals),
            _ => {
                let shape: Vec<usize> = spatial.iter().zip(&locals).map(|(s, l)| s * l).collect();
                layout::auto_local_spatial(threads, &shape)
            }
        }
    }

    /// Any register layout (for `view`, whose layout need not span the block).
    pub(super) fn any_layout(&mut self) -> RegisterLayout {
        match self.ch.below(4) {
            0 => layout::local(&[2, 1]).spatial(&[4, 8]),
            1 => layout::replicated(&[4], 2 + self.ch.below(3)),
            2 => layout::spatial(&[2, 3]).local(&[3, 4]),
            _ => self.block_layout(),
        }
    }

    pub(super) fn shared_layout(&mut self, shape: &[usize]) -> SharedLayout {
        let base = match self.ch.below(3) {
            0 => SharedLayout::row_major(shape),
            1 => SharedLayout::column_major(shape),
            _ => {
                let strides: Vec<usize> = (0..shape.len())
                    .map(|_| self.ch.pick(&[1usize, 3, 64]))
                    .collect();
                SharedLayout::strided(shape, &strides)
            }
        };
        let base = match base {
            Ok(l) => l,
            Err(e) => panic!("shared layout of {shape:?}: {e}"),
        };
        if self.ch.chance(1, 3) {
            let sw = Swizzle::new(self.ch.below(3) as u32, 1 + self.ch.below(3) as u32, 3);
            base.clone().with_swizzle(sw).unwrap_or(base)
        } else {
            base
        }
    }

    pub(super) fn inst(&mut self) {
        let k = self.ch.below(INST_KINDS);
        self.inst_of_kind(k);
    }

    pub(super) fn inst_of_kind(&mut self, k: usize) {
        let kb = self.kb;
        match k {
            0 => {
                self.global(None, 1);
            }
            1 => {
                let d = self.dtype();
                let shape: Vec<Scalar<'b>> = (0..1 + self.ch.below(2))
                    .map(|_| self.int_expr(1))
                    .collect();
                let rank = shape.len();
                let g = kb.alloc_global(d, &shape, self.ch.chance(1, 2));
                self.globals.push((g, rank));
            }
            2 => {
                self.shared();
            }
            3 => {
                let s = self.shared();
                kb.free_shared(&s);
                self.shareds.retain(|t| t.id != s.id);
            }
            4 => {
                let d = self.dtype();
                let shape = self.shape(3);
                let t = self.fresh_reg(d, &shape);
                let t = self.maybe_rename(t);
                let _ = t;
            }
            5 => {
                if self.ch.chance(1, 2) {
                    let (g, r) = self.global(None, 2);
                    let idx: Vec<Scalar<'b>> = (0..1 + self.ch.below(r - 1))
                        .map(|_| self.int_expr(1))
                        .collect();
                    let v = kb.slice(&g, &idx);
                    self.globals.push((v, r - idx.len()));
                } else {
                    let d = self.dtype();
                    let mut shape = vec![self.ch.pick(&[2usize, 3])];
                    shape.extend(self.shape(2));
                    let s = kb.alloc_shared(d, &shape);
                    let idx: Vec<Scalar<'b>> = (0..1 + self.ch.below(shape.len() - 1))
                        .map(|_| self.int_expr(1))
                        .collect();
                    let v = kb.slice(&s, &idx);
                    self.shareds.push(v);
                }
            }
            6 => {
                let (g, r) = self.global(None, 1);
                let tile_rank = 1 + self.ch.below(r);
                let shape: Vec<usize> = (0..tile_rank)
                    .map(|_| self.ch.pick(&[1usize, 4, 16, 128]))
                    .collect();
                let offsets: Vec<Scalar<'b>> = (0..r).map(|_| self.int_expr(1)).collect();
                let t = match self.dims(tile_rank, r) {
                    Some(d) => kb.load_global_dims(&g, &offsets, &shape, &d),
                    None => kb.load_global(&g, &offsets, &shape),
                };
                self.regs.push(t);
            }
            7 => {
                let (g, r) = self.global(None, 1);
                let tile_rank = 1 + self.ch.below(r);
                let shape: Vec<usize> = (0..tile_rank)
                    .map(|_| self.ch.pick(&[1usize, 8, 32]))
                    .collect();
                let t = self.fresh_reg(g.dtype(), &shape);
                let offsets: Vec<Scalar<'b>> = (0..r).map(|_| self.int_expr(1)).collect();
                match self.dims(tile_rank, r) {
                    Some(d) => kb.store_global_dims(&g, &t, &offsets, &d),
                    None => kb.store_global(&g, &t, &offsets),
                }
            }
            8 => {
                let s = self.shared();
                let t = kb.load_shared(&s);
                self.regs.push(t);
            }
            9 => {
                let s = self.shared();
                let t = self.fresh_reg(s.dtype(), &s.shape());
                kb.store_shared(&s, &t);
            }
            10 => {
                let s = self.shared();
                let k = s.shape().len();
                let (g, r) = self.global(Some(s.dtype()), k);
                let offsets: Vec<Scalar<'b>> = (0..r).map(|_| self.int_expr(1)).collect();
                match self.dims(k, r) {
                    Some(d) => kb.copy_async_dims(&s, &g, &offsets, &d),
                    None => kb.copy_async(&s, &g, &offsets),
                }
            }
            11 => kb.commit_group(),
            12 => kb.wait_group(self.ch.pick(&[0u32, 1, 2, u32::MAX])),
            13 => kb.wait_all(),
            14 => {
                let d = self.ch.pick(&[
                    DType::F16,
                    DType::BF16,
                    DType::F8E4M3FN,
                    DType::Int {
                        bits: 8,
                        signed: true,
                    },
                ]);
                let (m, kk, n) = (
                    self.ch.pick(&[16usize, 32]),
                    self.ch.pick(&[16usize, 8]),
                    self.ch.pick(&[8usize, 16]),
                );
                let a = self.fresh_reg(d, &[m, kk]);
                let b = self.fresh_reg(d, &[kk, n]);
                let acc = self.ch.pick(&[
                    DType::F32,
                    DType::F16,
                    DType::Int {
                        bits: 32,
                        signed: true,
                    },
                ]);
                match self.ch.below(3) {
                    0 => {
                        let t = kb.dot(&a, &b, None, acc);
                        self.regs.push(t);
                    }
                    1 => {
                        let c = self.fresh_reg(acc, &[m, n]);
                        let t = kb.dot(&a, &b, Some(&c), acc);
                        self.regs.push(t);
                    }
                    _ => {
                        let c = self.fresh_reg(acc, &[m, n]);
                        kb.dot_acc(&a, &b, &c);
                    }
                }
            }
            15 => {
                let x = self.any_reg();
                let d = self.dtype();
                let t = kb.cast(&x, d);
                self.regs.push(t);
            }
            16 => {
                let op = self.ch.pick(&TileUnaryOp::ALL);
                let d = if op == TileUnaryOp::BitNot {
                    self.ch.pick(&[
                        I32,
                        DType::Int {
                            bits: 4,
                            signed: false,
                        },
                    ])
                } else if op.float_only() {
                    self.ch
                        .pick(&[DType::F32, DType::F16, DType::BF16, DType::F8E5M2])
                } else {
                    self.dtype()
                };
                let x = self.reg_of(d);
                let t = kb.unary(op, &x);
                self.regs.push(t);
            }
            17 => {
                let op = self.ch.pick(&TileBinaryOp::ALL);
                let d = if op.int_only() {
                    self.ch.pick(&[
                        I32,
                        DType::Int {
                            bits: 3,
                            signed: true,
                        },
                        DType::Int {
                            bits: 8,
                            signed: false,
                        },
                    ])
                } else {
                    self.dtype()
                };
                let a = self.reg_of(d);
                let (a_op, b_op) = self.operands(a);
                if self.ch.chance(1, 4) {
                    let dst = self.fresh_reg(d, &a.shape());
                    // `dst <- a op scalar` keeps a's shape and dtype (comparisons excepted).
                    if !op.is_comparison() {
                        let s = self.scalar_for(d);
                        kb.binary_into(&dst, op, Operand::Tensor(a.id), Operand::Scalar(s.id));
                        return;
                    }
                }
                let t = kb.binary(op, a_op, b_op);
                self.regs.push(t);
            }
            18 => {
                let x = self.any_reg();
                let d = x.dtype();
                let s = self.scalar_for(d);
                let cond = kb.binary(
                    TileBinaryOp::Lt,
                    Operand::Tensor(x.id),
                    Operand::Scalar(s.id),
                );
                let (xo, yo) = self.operands(x);
                let t = kb.where_(&cond, xo, yo);
                self.regs.push(t);
            }
            19 => {
                let x = self.any_reg();
                let l = self.any_layout();
                let d = self.dtype();
                let t = kb.view(&x, d, &l);
                self.regs.push(t);
            }
            20 => {
                let x = self.any_reg();
                let op = self.ch.pick(&[ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min]);
                let dim = self.ch.below(x.shape().len());
                let t = kb.reduce(op, &x, dim, self.ch.chance(1, 2));
                // A rank-0 result cannot be reduced or re-allocated further.
                if !t.shape().is_empty() {
                    self.regs.push(t);
                }
            }
            21 => kb.sync(),
            22 | 23 => {
                let (g, r) = self.global(Some(I32), 1);
                let idx: Vec<Scalar<'b>> = (0..r).map(|_| self.int_expr(1)).collect();
                let v = self.int_expr(1);
                if k == 22 {
                    kb.lock_semaphore(&g, &idx, v);
                } else {
                    kb.release_semaphore(&g, &idx, v);
                }
            }
            24 => {
                let l = self.block_layout();
                let d = self.dtype();
                let t = self.fresh_reg(d, l.shape());
                kb.annotate_layout(&t, &l);
            }
            25 => {
                let s = self.shared();
                let l = self.shared_layout(&s.shape());
                kb.annotate_shared_layout(&s, &l);
            }
            _ => {
                let t = if self.ch.chance(1, 4) {
                    self.shared()
                } else {
                    self.any_reg()
                };
                let label = self.ch.pick(&LABELS);
                kb.print(&t, label);
            }
        }
    }

    /// Two operands for an elementwise instruction with the tile `a`: another tile of the
    /// same dtype whose shape broadcasts with `a`'s, or a scalar, in either order.
    pub(super) fn operands(&mut self, a: Tile<'b>) -> (Operand, Operand) {
        let d = a.dtype();
        let other = match self.ch.below(3) {
            0 => Operand::Scalar(self.scalar_for(d).id),
            1 => {
                // A broadcastable shape: some dims set to 1, maybe a dropped prefix.
                let mut shape: Vec<usize> = a
                    .shape()
                    .iter()
                    .map(|&e| if self.ch.chance(1, 3) { 1 } else { e })
                    .collect();
                if shape.len() > 1 && self.ch.chance(1, 3) {
                    shape.remove(0);
                }
                Operand::Tensor(self.fresh_reg(d, &shape).id)
            }
            _ => Operand::Tensor(a.id),
        };
        if self.ch.chance(1, 2) {
            (Operand::Tensor(a.id), other)
        } else {
            (other, Operand::Tensor(a.id))
        }
    }
}
