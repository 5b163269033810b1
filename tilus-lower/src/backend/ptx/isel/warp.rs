//! Warp collectives: `mma.sync.aligned.m16n8k16` on the word-legal fragments and
//! `ldmatrix.sync.aligned.m8n8` into words (see `backend/legalize/warp.rs`: `a` 4 and `b` 2
//! words of 16-bit pairs, `c`/`d` 4 `f32`; `ldmatrix` rows as `smem` word indices).

use tilus_ir::dtype::DType;

use super::{illegal, Selector, R};
use crate::backend::ptx::mir::{Class, Operand};
use crate::thread_ir::{ExprId, LocalRef, MemRef, MmaShape, SharedId, Space};

impl Selector<'_> {
    pub(super) fn mma(
        &mut self,
        shape: MmaShape,
        dtype: DType,
        [a, b, c, d]: [LocalRef; 4],
    ) -> R<()> {
        let MmaShape::M16N8K16 = shape;
        let ty = match dtype {
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            other => return Err(illegal(format!("mma on {other}"))),
        };
        let regs = |s: &Self, r: LocalRef, n: u32| -> R<Vec<_>> {
            (0..n)
                .map(|j| s.slot_reg(r.array.index(), r.slot + j))
                .collect()
        };
        let (ra, rb, rc, rd) = (
            regs(self, a, 4)?,
            regs(self, b, 2)?,
            regs(self, c, 4)?,
            regs(self, d, 4)?,
        );
        self.emit(
            format!("mma.sync.aligned.m16n8k16.row.col.f32.{ty}.{ty}.f32"),
            vec![
                Operand::Vec(rd),
                Operand::Vec(ra),
                Operand::Vec(rb),
                Operand::Vec(rc),
            ],
        );
        Ok(())
    }

    pub(super) fn ldmatrix(
        &mut self,
        src: SharedId,
        row: ExprId,
        num: u32,
        trans: bool,
        dst: LocalRef,
    ) -> R<()> {
        let x = match num {
            1 => "x1",
            2 => "x2",
            4 => "x4",
            other => return Err(illegal(format!("ldmatrix of {other} matrices"))),
        };
        let regs = (0..num)
            .map(|j| self.slot_reg(dst.array.index(), dst.slot + j))
            .collect::<R<Vec<_>>>()?;
        let addr = self.shared_address(MemRef {
            space: Space::Shared(src),
            index: row,
        })?;
        let t = if trans { ".trans" } else { "" };
        self.emit(
            format!("ldmatrix.sync.aligned.m8n8.{x}{t}.shared.b16"),
            vec![Operand::Vec(regs), addr],
        );
        Ok(())
    }

    /// `shfl.sync.idx.b32` over the whole warp; `f32` values move through a `b32` register.
    pub(super) fn shuffle(&mut self, dst: LocalRef, value: ExprId, lane: ExprId) -> R<()> {
        let d = self.slot_reg(dst.array.index(), dst.slot)?;
        let v = self.value(value)?;
        let l = self.operand(lane)?;
        let src = if v.class == Class::B32 {
            v
        } else {
            self.op1(Class::B32, "mov.b32", vec![Operand::Reg(v)])
        };
        let out = if d.class == Class::B32 {
            d
        } else {
            self.reg(Class::B32)
        };
        self.emit(
            "shfl.sync.idx.b32",
            vec![
                Operand::Reg(out),
                Operand::Reg(src),
                l,
                Operand::Imm(0x1f),
                Operand::Imm(0xffff_ffff),
            ],
        );
        if out != d {
            self.emit("mov.b32", vec![Operand::Reg(d), Operand::Reg(out)]);
        }
        Ok(())
    }
}
