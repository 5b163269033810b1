//! `c = a + b` over `n` elements of any dtype.

use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::program::Function;

use crate::error::{KernelError, Result};

/// The kernel `vector_add_<dtype>(n: i32, a: *dtype, b: *dtype, c: *dtype)`: block `i`
/// adds elements `[i·block, (i+1)·block)`, masked at `n`; grid `cdiv(n, block)`, 4 warps.
///
/// Works for every dtype, sub-byte ones included (integers wrap, floats round to nearest
/// even, per spec/dtypes.md). `block` must be positive and at most 2^20.
pub fn vector_add(dtype: DType, block: usize) -> Result<Function> {
    if block == 0 || block > 1 << 20 {
        return Err(KernelError::InvalidConfig {
            kernel: "vector_add",
            reason: format!("block = {block} must be 1 to 2^20 elements"),
        });
    }
    dtype.validate()?;
    let kb = KernelBuilder::new(&format!("vector_add_{dtype}"), 4);
    let n = kb.scalar_param("n", ScalarType::I32);
    let a = kb.pointer_param("a", dtype);
    let b = kb.pointer_param("b", dtype);
    let c = kb.pointer_param("c", dtype);
    kb.grid(&[n.cdiv(block)]);
    let ga = kb.global_view(a, &[n]).named("ga");
    let gb = kb.global_view(b, &[n]).named("gb");
    let gc = kb.global_view(c, &[n]).named("gc");
    let offset = kb.block_idx(Axis::X) * block;
    let x = kb.load_global(&ga, &[offset], &[block]).named("x");
    let y = kb.load_global(&gb, &[offset], &[block]).named("y");
    let z = (x + y).named("z");
    kb.store_global(&gc, &z, &[offset]);
    Ok(kb.finish()?)
}
