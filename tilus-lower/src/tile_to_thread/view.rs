//! `view`: each thread's register bits, reinterpreted. The input's slots, in slot order, form
//! a little-endian bit stream that the result's slots read back with the new dtype, so the
//! lowering is one [`Stmt::View`] (a copy that register allocation removes).

use tilus_ir::dtype::DType;
use tilus_ir::program::{Out, TensorId};

use super::{Lower, R};
use crate::error::LowerError;
use crate::thread_ir::Stmt;

/// `view`.
pub(super) fn view(cx: &mut Lower<'_>, out: Option<Out>, x: TensorId, dtype: DType) -> R<()> {
    let r = cx.reg(x)?;
    let (t, o) = cx.out_reg(out, dtype)?;
    let bits_in = r.layout.local_size() as u64 * u64::from(r.dtype.bits());
    let bits_out = o.layout.local_size() as u64 * u64::from(dtype.bits());
    if bits_in != bits_out || r.layout.num_threads() != o.layout.num_threads() {
        return Err(LowerError::BadLayout {
            inst: cx.here(),
            tensor: cx.tensor_name(t),
            reason: format!(
                "a view must keep the bits per thread and the threads: {} threads × {bits_in} \
                 bits in, {} threads × {bits_out} bits out",
                r.layout.num_threads(),
                o.layout.num_threads()
            ),
        });
    }
    cx.b.push(Stmt::View {
        dst: o.array,
        src: r.array,
    });
    Ok(())
}
