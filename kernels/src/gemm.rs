//! A tiled GEMM for `f16`, `bf16` and `f32`: `C[M, N] = A[M, K] · B[K, N]`, all row-major.
//!
//! Each block computes one `[BM, BN]` tile of `C`. The `A` and `B` tiles of each `k` step
//! are staged in shared memory through a `num_stages`-deep `copy_async` pipeline (one
//! commit group per step, `wait_group(num_stages − 1)` before use, a `sync` on either side
//! of the shared reads), loaded to registers with `load_shared` and multiplied with `dot`
//! into an `f32` accumulator. The epilogue casts the accumulator to the operand dtype and
//! stores it, masked. Ragged `M`, `N` and `K` are handled by the zero-filling masked
//! copies (zeros add nothing to the dot) and the masked store.

use tilus_ir::builder::{KernelBuilder, Scalar, Tile};
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::program::{Function, Unroll};

use crate::config::GemmConfig;
use crate::error::Result;

/// A `copy_async` pipeline over the k-tiles `[begin, end)`: `stages` shared buffers per
/// operand, each k-tile's copies in one commit group.
pub(crate) struct Pipeline<'b> {
    /// Pipeline depth.
    pub stages: usize,
    /// First k-tile (`None`: 0).
    pub begin: Option<Scalar<'b>>,
    /// One past the last k-tile.
    pub end: Scalar<'b>,
}

impl<'b> Pipeline<'b> {
    /// Emits the pipelined loop. `issue(kt, stage)` emits the `copy_async`s of k-tile `kt`
    /// into buffer `stage`; `body(kt, stage)` consumes buffer `stage` after the wait and
    /// barrier. Every iteration commits exactly one group (empty past the end), so
    /// `wait_group(stages − 1)` always covers the k-tile about to be used.
    pub fn emit(
        &self,
        kb: &'b KernelBuilder,
        issue: impl Fn(Scalar<'b>, Scalar<'b>),
        body: impl Fn(Scalar<'b>, Scalar<'b>),
    ) {
        let s = self.stages;
        let end = self.end;
        // The position of k-tile `kt` in the range (its buffer is that modulo `s`).
        let rel = |kt: Scalar<'b>| self.begin.map_or(kt, |b| kt - b);
        // Prologue: the first `s − 1` k-tiles.
        for p in 0..s.saturating_sub(1) {
            let kt = match self.begin {
                None => kb.int(p as i64),
                Some(b) if p == 0 => b,
                Some(b) => b + p,
            };
            kb.if_then(kt.lt(end), || issue(kt, kb.int(p as i64)));
            kb.commit_group();
        }
        let begin = self.begin.unwrap_or_else(|| kb.int(0));
        kb.for_range("kt", begin, end, 1, Unroll::None, |kt| {
            // Refill the buffer read in the previous iteration (the trailing sync of that
            // iteration made it free).
            let ahead = kt + (s - 1);
            let stage_ahead = rel(ahead) % s;
            kb.if_then(ahead.lt(end), || issue(ahead, stage_ahead));
            kb.commit_group();
            kb.wait_group((s - 1) as u32);
            kb.sync();
            body(kt, rel(kt) % s);
            kb.sync();
        });
        kb.wait_all();
    }
}

/// The kernel `gemm_<dtype>(m, n, k: i32, a: *dtype [M, K], b: *dtype [K, N],
/// c: *dtype [M, N])` with grid `(cdiv(n, BN), cdiv(m, BM))`.
pub fn gemm(dtype: DType, cfg: GemmConfig) -> Result<Function> {
    cfg.validate(dtype)?;
    let GemmConfig {
        block_m: bm,
        block_n: bn,
        block_k: bk,
        warps,
        num_stages,
    } = cfg;
    let kb = KernelBuilder::new(&format!("gemm_{dtype}"), warps as u32);
    let m = kb.scalar_param("m", ScalarType::I32);
    let n = kb.scalar_param("n", ScalarType::I32);
    let k = kb.scalar_param("k", ScalarType::I32);
    let a = kb.pointer_param("a", dtype);
    let b = kb.pointer_param("b", dtype);
    let c = kb.pointer_param("c", dtype);
    kb.grid(&[n.cdiv(bn), m.cdiv(bm)]);
    let ga = kb.global_view(a, &[m, k]).named("ga");
    let gb = kb.global_view(b, &[k, n]).named("gb");
    let gc = kb.global_view(c, &[m, n]).named("gc");
    let row = (kb.block_idx(Axis::Y) * bm).named_let(&kb, "row");
    let col = (kb.block_idx(Axis::X) * bn).named_let(&kb, "col");
    let sa = kb.alloc_shared(dtype, &[num_stages, bm, bk]).named("sa");
    let sb = kb.alloc_shared(dtype, &[num_stages, bk, bn]).named("sb");
    let acc = kb
        .alloc_register(DType::F32, &[bm, bn], Some(0.0))
        .named("acc");
    let pipeline = Pipeline {
        stages: num_stages,
        begin: None,
        end: k.cdiv(bk).named_let(&kb, "tiles_k"),
    };
    let issue = |kt: Scalar<'_>, stage: Scalar<'_>| {
        let da = kb.slice(&sa, &[stage]);
        kb.copy_async(&da, &ga, &[row, kt * bk]);
        let db = kb.slice(&sb, &[stage]);
        kb.copy_async(&db, &gb, &[kt * bk, col]);
    };
    let body = |_kt: Scalar<'_>, stage: Scalar<'_>| {
        let ta = stage_tile(&kb, &sa, stage, "ta");
        let tb = stage_tile(&kb, &sb, stage, "tb");
        kb.dot_acc(&ta, &tb, &acc);
    };
    pipeline.emit(&kb, issue, body);
    kb.free_shared(&sa);
    kb.free_shared(&sb);
    let out = acc.cast(dtype).named("out");
    kb.store_global(&gc, &out, &[row, col]);
    Ok(kb.finish()?)
}

/// `load_shared(s[stage])`, named.
fn stage_tile<'b>(kb: &'b KernelBuilder, s: &Tile<'b>, stage: Scalar<'b>, name: &str) -> Tile<'b> {
    let view = kb.slice(s, &[stage]);
    kb.load_shared(&view).named(name)
}

/// Binds a scalar expression to a named `let` (so printed programs read well and the
/// expression is computed once).
pub(crate) trait NamedLet<'b> {
    /// `let name: i32 = self`.
    fn named_let(self, kb: &'b KernelBuilder, name: &str) -> Scalar<'b>;
}

impl<'b> NamedLet<'b> for Scalar<'b> {
    fn named_let(self, kb: &'b KernelBuilder, name: &str) -> Scalar<'b> {
        kb.let_var(name, ScalarType::I32, self)
    }
}
