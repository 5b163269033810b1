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
