//! The packing tile program (codes → fragment-ordered bytes) and its inverse.
//!
//! Both are ordinary tile programs: they run on the interpreter here and later on GPUs, so
//! weights can be packed on the device they are used on. Each block handles one weight
//! tile `(kt, nt)` (grid `(cdiv(N, BN), cdiv(K, BK))`):
//!
//! - `pack`: load the `[BK, BN]` tile of `B = Wᵀ` from a global view of the codes `[N, K]`
//!   with strides `[1, K]` (masked: the zero code past `N` and `K`), annotate it with the
//!   MMA B layout `Lw`, `view` it as `u8` with `Lbytes`, store the `tile_bytes` bytes to
//!   `packed[kt, nt, :]`;
//! - `unpack`: the reverse, storing masked into the `[N, K]` codes.
//!
//! Parameters: `pack_<wtype>(n, k: i32, codes: *wtype [N, K], packed: *u8)` and
//! `unpack_<wtype>(n, k: i32, packed: *u8, codes: *wtype [N, K])`.

use tilus_ir::builder::{KernelBuilder, Pointer, Scalar, Tile};
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::program::Function;

use crate::config::A16WxConfig;
use crate::error::Result;
use crate::packed::PackedFormat;

const U8: DType = DType::Int {
    bits: 8,
    signed: false,
};

struct Views<'b> {
    codes: Tile<'b>,
    packed: Tile<'b>,
    kt: Scalar<'b>,
    nt: Scalar<'b>,
}

fn views<'b>(
    kb: &'b KernelBuilder,
    fmt: &PackedFormat,
    n: Scalar<'b>,
    k: Scalar<'b>,
    codes: Pointer,
    packed: Pointer,
) -> Views<'b> {
    kb.grid(&[n.cdiv(fmt.block_n), k.cdiv(fmt.block_k)]);
    // B = Wᵀ: element (kk, nn) of the [K, N] view is codes[nn·K + kk].
    let codes = kb
        .global_view_strided(codes, &[k, n], &[kb.int(1), k])
        .named("wt");
    let packed = kb
        .global_view(
            packed,
            &[
                k.cdiv(fmt.block_k),
                n.cdiv(fmt.block_n),
                kb.int(fmt.tile_bytes as i64),
            ],
        )
        .named("packed");
    Views {
        codes,
        packed,
        kt: kb.block_idx(Axis::Y),
        nt: kb.block_idx(Axis::X),
    }
}

/// The packing program for `cfg`'s weight type and tile (see the module documentation).
pub fn pack_program(cfg: &A16WxConfig) -> Result<Function> {
    let fmt = PackedFormat::new(cfg)?;
    let kb = KernelBuilder::new(&format!("pack_{}", cfg.wtype), cfg.warps() as u32);
    let n = kb.scalar_param("n", ScalarType::I32);
    let k = kb.scalar_param("k", ScalarType::I32);
    let codes = kb.pointer_param("codes", cfg.wtype);
    let packed = kb.pointer_param("packed", U8);
    let v = views(&kb, &fmt, n, k, codes, packed);
    let tile = kb
        .load_global(
            &v.codes,
            &[v.kt * fmt.block_k, v.nt * fmt.block_n],
            &[fmt.block_k, fmt.block_n],
        )
        .named("w");
    kb.annotate_layout(&tile, &fmt.lw);
    let bytes = kb.view(&tile, U8, &fmt.lbytes).named("bytes");
    kb.store_global_dims(&v.packed, &bytes, &[v.kt, v.nt, kb.int(0)], &[2]);
    Ok(kb.finish()?)
}

/// The inverse of [`pack_program`]: packed bytes → `[N, K]` codes.
pub fn unpack_program(cfg: &A16WxConfig) -> Result<Function> {
    let fmt = PackedFormat::new(cfg)?;
    let kb = KernelBuilder::new(&format!("unpack_{}", cfg.wtype), cfg.warps() as u32);
    let n = kb.scalar_param("n", ScalarType::I32);
    let k = kb.scalar_param("k", ScalarType::I32);
    let packed = kb.pointer_param("packed", U8);
    let codes = kb.pointer_param("codes", cfg.wtype);
    let v = views(&kb, &fmt, n, k, codes, packed);
    let bytes = kb
        .load_global_dims(&v.packed, &[v.kt, v.nt, kb.int(0)], &[fmt.tile_bytes], &[2])
        .named("bytes");
    kb.annotate_layout(&bytes, &fmt.lbytes);
    let tile = kb.view(&bytes, cfg.wtype, &fmt.lw).named("w");
    kb.store_global(&v.codes, &tile, &[v.kt * fmt.block_k, v.nt * fmt.block_n]);
    Ok(kb.finish()?)
}
