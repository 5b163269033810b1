//! The CPU backend (Cranelift, `CpuDevice`) against the tile interpreter: the whole
//! self-test corpus (vector add, GEMM with shared memory and barriers, the packers, the
//! a16wX GEMM for every weight type in both forms) bit for bit, `dot` included; blocks in
//! parallel; host calls; and clean errors for bad indices and division by zero.

use tilus_ir::dtype::DType;
use tilus_ir::interp::{Arg, HostBuffer};
use tilus_ir::text::parse_program;
use tilus_ir::verify::verify;
use tilus_kernels::selftest::{cases, check_case, Case};
use tilus_lower::artifact::Artifact;
use tilus_lower::pipeline::{compile, CompileOptions};
use tilus_lower::target::{CpuCaps, Target};
use tilus_runtime::{CpuDevice, Device, Kernel, LaunchArg};

/// The corpus with SIMD lanes (4 threads per iteration where control flow agrees) and
/// with scalar thread loops only: both bit-exact.
#[test]
fn corpus_on_the_cpu_matches_the_tile_interpreter() {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    for lanes in [4, 1] {
        let mut dev = CpuDevice::with_options(threads, lanes);
        let mut failures = Vec::new();
        let mut n = 0;
        for case in cases().expect("the corpus builds") {
            let r = check_case(&mut dev, &case).expect("runs");
            n += 1;
            if !r.passed || !r.exact {
                failures.push(format!(
                    "{}: exact={} max_rel={:e} {:?}",
                    r.name, r.exact, r.max_rel, r.error
                ));
            }
        }
        assert!(n > 100, "the corpus has {n} cases");
        assert!(
            failures.is_empty(),
            "lanes={lanes}:\n{}",
            failures.join("\n")
        );
    }
}

/// The a16wX SIMT kernel, the CPU's GEMV, runs in SIMD lanes (it would silently fall back
/// to scalar loops if an operation lost its lane-wise form).
#[test]
fn the_simt_gemv_is_vectorized() {
    let a = corpus_code("a16wx_simt");
    let clif = &a.cpu().expect("CPU code").clif;
    assert!(
        clif.contains("f32x4"),
        "no f32x4 arithmetic in the SIMT GEMV"
    );
}

/// The CPU artifact of kernel `name` of a verified program.
fn cpu_code(verified: &tilus_ir::verify::VerifiedProgram, name: &str) -> Artifact {
    compile(
        verified,
        name,
        &Target::Cpu(CpuCaps::default()),
        &CompileOptions::default(),
    )
    .expect("compiles")
    .artifact
    .expect("has code")
}

fn cpu_artifact(src: &str, name: &str) -> Artifact {
    cpu_code(
        &verify(parse_program(src).expect("parses")).expect("verifies"),
        name,
    )
}

/// The CPU artifact of the first corpus case whose kernel name starts with `prefix`.
fn corpus_code(prefix: &str) -> Artifact {
    let case = cases()
        .expect("the corpus builds")
        .into_iter()
        .find(|c| c.function.name.starts_with(prefix))
        .expect("a corpus case");
    let verified = verify(tilus_ir::program::Program {
        functions: vec![case.function.clone()],
    })
    .expect("verifies");
    cpu_code(&verified, &case.function.name)
}

#[test]
fn the_corpus_exercises_barriers_and_frames() {
    // The shared-memory GEMM synchronizes its threads: its block function keeps per-thread
    // frames across barriers, so that path is covered by the corpus test above.
    let a = corpus_code("gemm");
    let m = a.cpu().expect("CPU code");
    assert!(m.frame_bytes > 0, "the GEMM has no barrier frames");
    assert!(m.smem_words > 0, "the GEMM uses no shared memory");
}

/// Runs `case` on a CPU device with `threads` workers and checks it like the corpus.
fn check_on(threads: usize, case: &Case) {
    let mut dev = CpuDevice::with_threads(threads);
    let r = check_case(&mut dev, case).expect("runs");
    assert!(
        r.passed && r.exact,
        "{}: {:?} max_rel={:e}",
        r.name,
        r.error,
        r.max_rel
    );
}

const ELEMENTWISE: &str = "\
kernel ew(n: i32, a: *f32, c: *f32) grid(cdiv(n, 128)) warps(1) {
    %ga = global_view a, [n]
    %gc = global_view c, [n]
    %x = load_global %ga, [blockIdx.x * 128], shape=[128]
    %e = exp %x
    %s = sigmoid %e
    %l = log %s
    %r = rsqrt %e
    %t = add %l, %r
    store_global %gc, %t, [blockIdx.x * 128]
}
";

#[test]
fn many_blocks_in_parallel_and_host_calls_match_the_interpreter() {
    let program = parse_program(ELEMENTWISE).expect("parses");
    let n = 128 * 37 + 5;
    let xs: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 4.0).collect();
    let case = Case {
        name: "elementwise exp/sigmoid/log/rsqrt, 38 blocks".into(),
        function: program.functions[0].clone(),
        args: vec![
            Arg::Int(n as i64),
            Arg::Buffer(HostBuffer::from_f32(DType::F32, &xs)),
            Arg::Buffer(HostBuffer::zeros(DType::F32, n)),
        ],
        dot: false,
    };
    for threads in [1, 3, 8] {
        check_on(threads, &case);
    }
}

/// A launch whose arguments make the kernel index outside a buffer fails with a clear
/// error instead of touching memory it does not own.
#[test]
fn an_index_outside_a_buffer_is_an_error() {
    let a = cpu_artifact(ELEMENTWISE, "ew");
    let mut dev = CpuDevice::new();
    let small = dev.allocate(64).expect("allocates");
    let out = dev.allocate(64).expect("allocates");
    let err = dev
        .launch(
            &Kernel::Compiled(a),
            &[
                LaunchArg::Int(1 << 20),
                LaunchArg::Buffer(small),
                LaunchArg::Buffer(out),
            ],
        )
        .expect_err("n is far beyond the buffers");
    let msg = err.to_string();
    assert!(msg.contains("outside its buffer"), "{msg}");
}

#[test]
fn an_integer_division_by_zero_is_an_error() {
    let src = "\
kernel div(n: i32, d: i32, c: *i32) grid(1) warps(1) {
    %gc = global_view c, [32]
    %t = alloc_register i32[32], init=0
    %u = add %t, n / d
    store_global %gc, %u, [0]
}
";
    let a = cpu_artifact(src, "div");
    let mut dev = CpuDevice::new();
    let out = dev.allocate(128).expect("allocates");
    let k = Kernel::Compiled(a);
    dev.launch(
        &k,
        &[LaunchArg::Int(7), LaunchArg::Int(2), LaunchArg::Buffer(out)],
    )
    .expect("7 / 2 runs");
    let bytes = dev.download(out).expect("downloads");
    assert_eq!(
        i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        3
    );
    // i32::MIN / -1 wraps (no trap), as the thread IR defines.
    dev.launch(
        &k,
        &[
            LaunchArg::Int(i64::from(i32::MIN)),
            LaunchArg::Int(-1),
            LaunchArg::Buffer(out),
        ],
    )
    .expect("MIN / -1 runs");
    let bytes = dev.download(out).expect("downloads");
    assert_eq!(
        i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        i32::MIN
    );
    let err = dev
        .launch(
            &k,
            &[LaunchArg::Int(7), LaunchArg::Int(0), LaunchArg::Buffer(out)],
        )
        .expect_err("a zero divisor");
    assert!(err.to_string().contains("division"), "{err}");
}

#[test]
fn a_kernel_is_jit_compiled_once_per_device() {
    let a = cpu_artifact(ELEMENTWISE, "ew");
    let mut dev = CpuDevice::new();
    let x = dev.allocate(512).expect("allocates");
    let y = dev.allocate(512).expect("allocates");
    let k = Kernel::Compiled(a);
    let args = [
        LaunchArg::Int(128),
        LaunchArg::Buffer(x),
        LaunchArg::Buffer(y),
    ];
    dev.launch(&k, &args).expect("runs");
    let first = dev.jit_micros();
    assert!(first > 0);
    for _ in 0..3 {
        dev.launch(&k, &args).expect("runs");
    }
    assert_eq!(
        dev.jit_micros(),
        first,
        "a cached module was compiled again"
    );
}
