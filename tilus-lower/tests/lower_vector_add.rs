//! Vector add with a ragged tail: lowered and run by the thread interpreter, bit-identical
//! to the tile interpreter.

mod lower_support;

use lower_support::*;
use tilus_ir::builder::KernelBuilder;
use tilus_ir::expr::{Axis, ScalarType};

fn kernel(dtype: tilus_ir::dtype::DType, tile: usize, warps: u32) -> tilus_ir::program::Function {
    let kb = KernelBuilder::new("vector_add", warps);
    let n = kb.scalar_param("n", ScalarType::I32);
    let a = kb.pointer_param("a", dtype);
    let b = kb.pointer_param("b", dtype);
    let c = kb.pointer_param("c", dtype);
    kb.grid(&[n.cdiv(tile as i64)]);
    let ga = kb.global_view(a, &[n]);
    let gb = kb.global_view(b, &[n]);
    let gc = kb.global_view(c, &[n]);
    let offset = kb.block_idx(Axis::X) * tile as i64;
    let x = kb.load_global(&ga, &[offset], &[tile]);
    let y = kb.load_global(&gb, &[offset], &[tile]);
    let z = x + y;
    kb.store_global(&gc, &z, &[offset]);
    kb.finish().expect("kernel")
}

#[test]
fn vector_add_f32_ragged() {
    let p = verified(kernel(F32, 512, 4));
    let k = lower(&p, &layouts(&p, &[], &[]));
    let n = 1000;
    let mut rng = Rng(7);
    let a = rng.values(F32, n, 100.0);
    let b = rng.values(F32, n, 100.0);
    let out = run_both(
        &p,
        &k,
        &[
            tilus_ir::interp::Arg::Int(n as i64),
            buf(F32, &a),
            buf(F32, &b),
            zeros(F32, n),
        ],
    );
    // And the values are right.
    let c = out[2].to_f32();
    for i in 0..n {
        let want = f32::from_bits(a[i] as u32) + f32::from_bits(b[i] as u32);
        assert_eq!(c[i].to_bits(), want.to_bits(), "element {i}");
    }
}

#[test]
fn vector_add_f16_and_sub_byte() {
    for dtype in [F16, int(4, false), int(3, true), int(8, true)] {
        let p = verified(kernel(dtype, 256, 2));
        let k = lower(&p, &layouts(&p, &[], &[]));
        let n = 301;
        let mut rng = Rng(11);
        let a = rng.codes(dtype, n);
        let b = rng.codes(dtype, n);
        run_both(
            &p,
            &k,
            &[
                tilus_ir::interp::Arg::Int(n as i64),
                buf(dtype, &a),
                buf(dtype, &b),
                zeros(dtype, n),
            ],
        );
    }
}

#[test]
fn printed_thread_ir_is_readable() {
    let p = verified(kernel(F32, 128, 4));
    let k = lower(&p, &layouts(&p, &[], &[]));
    let text = k.to_string();
    assert!(
        text.starts_with("kernel vector_add threads=128 grid=(cdiv(#n, 128)) shared=0"),
        "{text}"
    );
    assert!(text.contains("load.global @a["), "{text}");
    assert!(text.contains("store.global @c["), "{text}");
}

/// A copy of a 64×64 tile of a tensor with constant extents: the inferred layouts give each
/// thread runs of 8 consecutive f16 elements, which become 16-byte vector accesses.
#[test]
fn constant_extents_give_vector_accesses() {
    use tilus_lower::thread_ir::Stmt;
    for dtype in [F16, int(4, false), F32] {
        let kb = KernelBuilder::new("copy", 4);
        let a = kb.pointer_param("a", dtype);
        let c = kb.pointer_param("c", dtype);
        kb.grid(&[2i64]);
        let ga = kb.global_view(a, &[128i64, 64]);
        let gc = kb.global_view(c, &[128i64, 64]);
        let r0 = kb.block_idx(Axis::X) * 64;
        let t = kb.load_global(&ga, &[r0, kb.int(0)], &[64, 64]);
        kb.store_global(&gc, &t, &[r0, kb.int(0)]);
        let p = verified(kb.finish().expect("kernel"));
        let k = lower(&p, &layouts(&p, &[], &[]));
        let widths: Vec<u32> = k
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::Load { width, .. } | Stmt::Store { width, .. } => Some(*width),
                _ => None,
            })
            .collect();
        assert!(
            widths.iter().all(|&w| w > 1),
            "{dtype}: widths {widths:?}\n{k}"
        );
        let mut rng = Rng(1);
        run_both(
            &p,
            &k,
            &[
                buf(dtype, &rng.codes(dtype, 128 * 64)),
                zeros(dtype, 128 * 64),
            ],
        );
    }
}
