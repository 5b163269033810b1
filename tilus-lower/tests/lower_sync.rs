//! Semaphores across blocks (a serialized accumulation with a `requires_clean` workspace),
//! lowered and run by the thread interpreter's block scheduler, against the tile interpreter.

mod lower_support;

use lower_support::*;
use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::interp::Arg;
use tilus_ir::program::Function;

/// Block b waits until sem == b, adds its slice of x into out, and passes the turn on; the
/// last block resets the semaphore so the workspace ends clean.
fn serial_sum(reverse: bool) -> Function {
    let kb = KernelBuilder::new("serial_sum", 2);
    let blocks = kb.scalar_param("blocks", ScalarType::I32);
    let x = kb.pointer_param("x", DType::F32);
    let out = kb.pointer_param("out", DType::F32);
    kb.grid(&[blocks]);
    let gx = kb.global_view(x, &[blocks, kb.int(64)]);
    let go = kb.global_view(out, &[64i64]);
    let sem = kb.alloc_global(I32, &[1i64], true);
    let b = kb.block_idx(Axis::X);
    let turn = if reverse { blocks - 1 - b } else { b };
    kb.lock_semaphore(&sem, &[0i64], turn);
    let acc = kb.load_global(&go, &[0i64], &[64]);
    let part = kb.load_global(&gx, &[turn, kb.int(0)], &[64]);
    let s = acc + part;
    kb.store_global(&go, &s, &[0i64]);
    let next = (turn + 1) % blocks;
    kb.release_semaphore(&sem, &[0i64], next);
    kb.finish().expect("kernel")
}

#[test]
fn serialized_blocks_through_a_semaphore() {
    for reverse in [false, true] {
        let p = verified(serial_sum(reverse));
        let k = lower(&p, &layouts(&p, &[], &[]));
        assert_eq!(k.workspaces().len(), 1);
        let blocks = 5;
        let mut rng = Rng(77);
        let out = run_both(
            &p,
            &k,
            &[
                Arg::Int(blocks),
                buf(
                    DType::F32,
                    &rng.values(DType::F32, 64 * blocks as usize, 1.0),
                ),
                zeros(DType::F32, 64),
            ],
        );
        // The order of the additions is block 0, 1, … whatever the launch order.
        let x = out[0].to_f32();
        let o = out[1].to_f32();
        for j in 0..64 {
            let mut s = 0.0f32;
            for b in 0..blocks as usize {
                s += x[b * 64 + j];
            }
            assert_eq!(o[j].to_bits(), s.to_bits());
        }
    }
}
