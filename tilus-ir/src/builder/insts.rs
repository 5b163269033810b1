//! One builder method per instruction, grouped by family as in [`crate::inst`].

use super::{IntoExpr, KernelBuilder, Pointer, Tile};
use crate::dtype::DType;
use crate::expr::Expr;
use crate::inst::{InstKind, Operand, ReduceOp, TileBinaryOp, TileUnaryOp};
use crate::layout::shared::SharedLayout;
use crate::layout::RegisterLayout;
use crate::program::VarType;

impl KernelBuilder {
    // ---- memory ----

    /// Views a pointer as a row-major global tensor of the given extents.
    pub fn global_view<E: IntoExpr + Copy>(&self, ptr: Pointer, shape: &[E]) -> Tile<'_> {
        let dtype = self.pointer_dtype(ptr);
        let shape = self.exprs(shape);
        self.emit_tile(
            InstKind::GlobalView {
                ptr: ptr.var,
                dtype,
                shape,
                strides: None,
            },
            "g",
        )
    }

    /// Views a pointer as a global tensor with explicit strides (in elements).
    pub fn global_view_strided<E: IntoExpr + Copy, S: IntoExpr + Copy>(
        &self,
        ptr: Pointer,
        shape: &[E],
        strides: &[S],
    ) -> Tile<'_> {
        let dtype = self.pointer_dtype(ptr);
        let shape = self.exprs(shape);
        let strides = Some(self.exprs(strides));
        self.emit_tile(
            InstKind::GlobalView {
                ptr: ptr.var,
                dtype,
                shape,
                strides,
            },
            "g",
        )
    }

    fn pointer_dtype(&self, ptr: Pointer) -> DType {
        let f = self.func.borrow();
        match f.vars.try_get(ptr.var).map(|v| v.ty) {
            Some(VarType::Pointer(d)) => d,
            _ => {
                drop(f);
                self.fail("global_view of something that is not a pointer parameter".into());
                DType::F32
            }
        }
    }

    /// A global workspace shared by all blocks; `requires_clean` = zero on entry and exit.
    pub fn alloc_global<E: IntoExpr + Copy>(
        &self,
        dtype: DType,
        shape: &[E],
        requires_clean: bool,
    ) -> Tile<'_> {
        let shape = self.exprs(shape);
        self.emit_tile(
            InstKind::AllocGlobal {
                dtype,
                shape,
                requires_clean,
            },
            "ws",
        )
    }

    /// A shared tile.
    pub fn alloc_shared(&self, dtype: DType, shape: &[usize]) -> Tile<'_> {
        self.emit_tile(
            InstKind::AllocShared {
                dtype,
                shape: shape.to_vec(),
            },
            "s",
        )
    }

    /// Releases a shared tile.
    pub fn free_shared(&self, t: &Tile<'_>) {
        self.emit(InstKind::FreeShared { tensor: t.id }, "");
    }

    /// A register tile, optionally filled with a constant.
    pub fn alloc_register(&self, dtype: DType, shape: &[usize], init: Option<f64>) -> Tile<'_> {
        let init = init.map(|v| {
            if v.fract() == 0.0 && v.abs() < 9.0e15 && !dtype.is_float() {
                self.expr(Expr::Int(v as i64))
            } else {
                self.expr(Expr::Float(v))
            }
        });
        self.emit_tile(
            InstKind::AllocRegister {
                dtype,
                shape: shape.to_vec(),
                init,
            },
            "r",
        )
    }

    /// `t[i, …]`: fixes leading indices of a shared or global tensor.
    pub fn slice<E: IntoExpr + Copy>(&self, t: &Tile<'_>, indices: &[E]) -> Tile<'_> {
        let indices = self.exprs(indices);
        self.emit_tile(InstKind::Slice { src: t.id, indices }, "v")
    }

    // ---- transfer ----

    /// Loads a tile of `shape` at `offsets` (masked; out-of-bounds reads give 0).
    pub fn load_global<E: IntoExpr + Copy>(
        &self,
        g: &Tile<'_>,
        offsets: &[E],
        shape: &[usize],
    ) -> Tile<'_> {
        self.load_global_in(g, offsets, shape, None)
    }

    /// Like [`Self::load_global`], spanning the global dimensions `dims`.
    pub fn load_global_dims<E: IntoExpr + Copy>(
        &self,
        g: &Tile<'_>,
        offsets: &[E],
        shape: &[usize],
        dims: &[usize],
    ) -> Tile<'_> {
        self.load_global_in(g, offsets, shape, Some(dims))
    }

    fn load_global_in<E: IntoExpr + Copy>(
        &self,
        g: &Tile<'_>,
        offsets: &[E],
        shape: &[usize],
        dims: Option<&[usize]>,
    ) -> Tile<'_> {
        let offsets = self.exprs(offsets);
        let (src, shape, dims) = (g.id, shape.to_vec(), dims.map(<[usize]>::to_vec));
        self.emit_tile(
            InstKind::LoadGlobal {
                src,
                offsets,
                shape,
                dims,
            },
            "x",
        )
    }

    /// Stores a register tile at `offsets` (masked; out-of-bounds writes are dropped).
    pub fn store_global<E: IntoExpr + Copy>(&self, g: &Tile<'_>, r: &Tile<'_>, offsets: &[E]) {
        self.store_global_in(g, r, offsets, None);
    }

    /// Like [`Self::store_global`], spanning the global dimensions `dims`.
    pub fn store_global_dims<E: IntoExpr + Copy>(
        &self,
        g: &Tile<'_>,
        r: &Tile<'_>,
        offsets: &[E],
        dims: &[usize],
    ) {
        self.store_global_in(g, r, offsets, Some(dims));
    }

    fn store_global_in<E: IntoExpr + Copy>(
        &self,
        g: &Tile<'_>,
        r: &Tile<'_>,
        offsets: &[E],
        dims: Option<&[usize]>,
    ) {
        let offsets = self.exprs(offsets);
        let (dst, src, dims) = (g.id, r.id, dims.map(<[usize]>::to_vec));
        self.emit(
            InstKind::StoreGlobal {
                dst,
                src,
                offsets,
                dims,
            },
            "",
        );
    }

    /// Shared → register.
    pub fn load_shared(&self, s: &Tile<'_>) -> Tile<'_> {
        self.emit_tile(InstKind::LoadShared { src: s.id }, "x")
    }

    /// Register → shared.
    pub fn store_shared(&self, s: &Tile<'_>, r: &Tile<'_>) {
        self.emit(
            InstKind::StoreShared {
                dst: s.id,
                src: r.id,
            },
            "",
        );
    }

    // ---- copy_async ----

    /// Asynchronous copy of the tile at `offsets` of `g` into the shared tile `s`.
    pub fn copy_async<E: IntoExpr + Copy>(&self, s: &Tile<'_>, g: &Tile<'_>, offsets: &[E]) {
        self.copy_async_in(s, g, offsets, None);
    }

    /// Like [`Self::copy_async`], spanning the global dimensions `dims`.
    pub fn copy_async_dims<E: IntoExpr + Copy>(
        &self,
        s: &Tile<'_>,
        g: &Tile<'_>,
        offsets: &[E],
        dims: &[usize],
    ) {
        self.copy_async_in(s, g, offsets, Some(dims));
    }

    fn copy_async_in<E: IntoExpr + Copy>(
        &self,
        s: &Tile<'_>,
        g: &Tile<'_>,
        offsets: &[E],
        dims: Option<&[usize]>,
    ) {
        let offsets = self.exprs(offsets);
        let (dst, src, dims) = (s.id, g.id, dims.map(<[usize]>::to_vec));
        self.emit(
            InstKind::CopyAsync {
                dst,
                src,
                offsets,
                dims,
            },
            "",
        );
    }

    /// Closes the current group of asynchronous copies.
    pub fn commit_group(&self) {
        self.emit(InstKind::CommitGroup, "");
    }

    /// Waits until at most `n` committed groups are pending.
    pub fn wait_group(&self, n: u32) {
        self.emit(InstKind::WaitGroup { n }, "");
    }

    /// Waits for every asynchronous copy.
    pub fn wait_all(&self) {
        self.emit(InstKind::WaitAll, "");
    }

    // ---- compute ----

    /// `a @ b (+ c)` accumulated in `acc`.
    pub fn dot(&self, a: &Tile<'_>, b: &Tile<'_>, c: Option<&Tile<'_>>, acc: DType) -> Tile<'_> {
        self.emit_tile(
            InstKind::Dot {
                a: a.id,
                b: b.id,
                c: c.map(|c| c.id),
                acc_dtype: acc,
            },
            "acc",
        )
    }

    /// `acc <- a @ b + acc` (in place).
    pub fn dot_acc(&self, a: &Tile<'_>, b: &Tile<'_>, acc: &Tile<'_>) {
        let acc_dtype = self.dtype_of(acc);
        self.emit_into(
            acc,
            InstKind::Dot {
                a: a.id,
                b: b.id,
                c: Some(acc.id),
                acc_dtype,
            },
        );
    }

    /// Elementwise conversion.
    pub fn cast(&self, x: &Tile<'_>, dtype: DType) -> Tile<'_> {
        self.emit_tile(InstKind::Cast { x: x.id, dtype }, "x")
    }

    /// Elementwise unary operation.
    pub fn unary(&self, op: TileUnaryOp, x: &Tile<'_>) -> Tile<'_> {
        self.emit_tile(InstKind::Unary { op, x: x.id }, "x")
    }

    /// Elementwise binary operation with broadcasting.
    pub fn binary(&self, op: TileBinaryOp, a: Operand, b: Operand) -> Tile<'_> {
        self.emit_tile(InstKind::Binary { op, a, b }, "x")
    }

    /// `dst <- op(a, b)` (in place).
    pub fn binary_into(&self, dst: &Tile<'_>, op: TileBinaryOp, a: Operand, b: Operand) {
        self.emit_into(dst, InstKind::Binary { op, a, b });
    }

    /// `cond ? x : y` elementwise.
    pub fn where_(&self, cond: &Tile<'_>, x: Operand, y: Operand) -> Tile<'_> {
        self.emit_tile(
            InstKind::Where {
                cond: cond.id,
                x,
                y,
            },
            "x",
        )
    }

    /// Reinterprets each thread's register bits with a new dtype and layout.
    pub fn view(&self, x: &Tile<'_>, dtype: DType, layout: &RegisterLayout) -> Tile<'_> {
        let shape = layout.shape().to_vec();
        let layout = self.func.borrow_mut().layouts.intern(layout.clone());
        self.emit_tile(
            InstKind::View {
                x: x.id,
                dtype,
                shape,
                layout,
            },
            "x",
        )
    }

    /// Reduces one dimension.
    pub fn reduce(&self, op: ReduceOp, x: &Tile<'_>, dim: usize, keepdim: bool) -> Tile<'_> {
        self.emit_tile(
            InstKind::Reduce {
                op,
                x: x.id,
                dim,
                keepdim,
            },
            "x",
        )
    }

    // ---- sync ----

    /// Block-wide barrier.
    pub fn sync(&self) {
        self.emit(InstKind::Sync, "");
    }

    /// Spins until `sem[index] == value`.
    pub fn lock_semaphore<E: IntoExpr + Copy, V: IntoExpr>(
        &self,
        sem: &Tile<'_>,
        index: &[E],
        value: V,
    ) {
        let index = self.exprs(index);
        let value = value.into_expr(self);
        self.emit(
            InstKind::LockSemaphore {
                sem: sem.id,
                index,
                value,
            },
            "",
        );
    }

    /// Stores `value` into `sem[index]`.
    pub fn release_semaphore<E: IntoExpr + Copy, V: IntoExpr>(
        &self,
        sem: &Tile<'_>,
        index: &[E],
        value: V,
    ) {
        let index = self.exprs(index);
        let value = value.into_expr(self);
        self.emit(
            InstKind::ReleaseSemaphore {
                sem: sem.id,
                index,
                value,
            },
            "",
        );
    }

    // ---- annotate ----

    /// Pins the register layout of `t`.
    pub fn annotate_layout(&self, t: &Tile<'_>, layout: &RegisterLayout) {
        let layout = self.func.borrow_mut().layouts.intern(layout.clone());
        self.emit(
            InstKind::AnnotateLayout {
                tensor: t.id,
                layout,
            },
            "",
        );
    }

    /// Pins the shared layout of `t`.
    pub fn annotate_shared_layout(&self, t: &Tile<'_>, layout: &SharedLayout) {
        let layout = self.func.borrow_mut().shared_layouts.intern(layout.clone());
        self.emit(
            InstKind::AnnotateSharedLayout {
                tensor: t.id,
                layout,
            },
            "",
        );
    }

    /// Debug print.
    pub fn print(&self, t: &Tile<'_>, label: &str) {
        self.emit(
            InstKind::Print {
                tensor: t.id,
                label: label.to_string(),
            },
            "",
        );
    }
}
