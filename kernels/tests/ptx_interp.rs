//! The PTX backend checked without a GPU: every library kernel of the self-test corpus
//! (vector add, GEMM with mma.sync and ldmatrix, the packers, the a16wX GEMM for every
//! weight type in tensor-core and SIMT form) compiled to PTX and run by the PTX
//! interpreter (`tilus-ptx`, written from the PTX ISA, not from our emitter) reproduces the
//! tile interpreter bit for bit (NaN payloads aside).

use tilus_kernels::selftest::{cases, check_case};
use tilus_runtime::PtxInterpDevice;

#[test]
fn corpus_on_the_ptx_interpreter_matches_the_tile_interpreter() {
    let mut dev = PtxInterpDevice::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for case in cases().expect("the corpus builds") {
        let r = check_case(&mut dev, &case).expect("runs");
        n += 1;
        if !r.passed || (case.dot && !r.exact) {
            failures.push(format!(
                "{}: exact={} max_rel={:e} {:?}",
                r.name, r.exact, r.max_rel, r.error
            ));
        }
    }
    assert!(n > 100, "the corpus has {n} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Reductions across the lanes of a warp (lowered to `shfl.sync.idx` on PTX): sums in
/// index order and maxima, along the low lane bits and along strided lane bits, bit-exact
/// against the tile interpreter.
#[test]
fn warp_shuffle_reductions_match_the_tile_interpreter() {
    use tilus_ir::dtype::DType;
    use tilus_ir::interp::{Arg, HostBuffer};
    use tilus_ir::text::parse_program;
    use tilus_kernels::selftest::Case;

    let src = "\
kernel rows(x: *f32, y: *f32) grid(1) warps(2) {
    %gx = global_view x, [8, 8]
    %gy = global_view y, [8]
    %t = load_global %gx, [0, 0], shape=[8, 8]
    annotate_layout %t, spatial(8,8)
    %s = sum %t, dim=1
    annotate_layout %s, reduce(spatial(8,8), dims=[1])
    store_global %gy, %s, [0]
}
kernel cols(x: *i32, y: *i32) grid(1) warps(1) {
    %gx = global_view x, [8, 4]
    %gy = global_view y, [4]
    %t = load_global %gx, [0, 0], shape=[8, 4]
    annotate_layout %t, spatial(8,4)
    %s = max %t, dim=0
    annotate_layout %s, reduce(spatial(8,4), dims=[0])
    store_global %gy, %s, [0]
}
";
    let program = parse_program(src).expect("parses");
    let mut dev = PtxInterpDevice::new();
    let mut seed = 7u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for f in program.functions {
        let (x, y) = if f.name == "rows" {
            let xs: Vec<f32> = (0..64)
                .map(|_| (next() >> 40) as f32 / 65536.0 - 128.0)
                .collect();
            (
                HostBuffer::from_f32(DType::F32, &xs),
                HostBuffer::zeros(DType::F32, 8),
            )
        } else {
            let i32_ = DType::Int {
                bits: 32,
                signed: true,
            };
            let xs: Vec<i64> = (0..32).map(|_| (next() as i32) as i64).collect();
            (
                HostBuffer::from_i64(i32_, &xs).expect("fits"),
                HostBuffer::zeros(i32_, 4),
            )
        };
        let name = f.name.clone();
        let case = Case {
            name: name.clone(),
            function: f,
            args: vec![Arg::Buffer(x), Arg::Buffer(y)],
            dot: false,
        };
        let r = check_case(&mut dev, &case).expect("runs");
        assert!(r.exact, "{name}: {r:?}");
    }
}
