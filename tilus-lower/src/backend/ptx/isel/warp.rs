//! Warp collectives: `mma.sync.aligned.m16n8k16` on the word-legal fragments (see
//! `backend/legalize/warp.rs`: `a` 4 and `b` 2 words of 16-bit pairs, `c`/`d` 4 `f32`).

use tilus_ir::dtype::DType;

use super::{illegal, Selector, R};
use crate::backend::ptx::mir::Operand;
use crate::thread_ir::{LocalRef, MmaShape};

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
}
