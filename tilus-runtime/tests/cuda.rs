//! The CUDA device (feature `cuda`).
//!
//! Without a driver, opening a device is an error that names the driver, never a panic.
//! With one, hand-written PTX kernels that follow the `Artifact` launch contract (one `.u64`
//! pointer per slot, the scalar block last; docs/ptx.md's module shape) run and are checked.
//! The GPU tests are skipped with a printed reason when no device opens, unless
//! `TILUS_REQUIRE_CUDA` is set, in which case they fail.
#![cfg(feature = "cuda")]

use tilus_ir::dtype::DType;
use tilus_lower::artifact::{
    Artifact, Code, GridExpr, LaunchContract, ParamBinding, PtxModule, WgslModule,
};
use tilus_runtime::{Clock, CudaDevice, Device, Kernel, LaunchArg, RuntimeError};

const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};

/// CUDA device 0, or `None` when the test is skipped.
fn device() -> Option<CudaDevice> {
    tilus_runtime::skip::cuda_or_skip()
        .unwrap_or_else(|e| panic!("TILUS_REQUIRE_CUDA is set but CUDA failed: {e}"))
}

/// `c[i] = a[i] + b[i]` over `n` f32 values, 128 threads per block.
const VADD_PTX: &str = r#"//
// tilus test kernel `vadd`: 128 threads per block. Written by hand.
//
.version 8.0
.target sm_80
.address_size 64

.visible .entry vadd(
    .param .u64 vadd_param_0,
    .param .u64 vadd_param_1,
    .param .u64 vadd_param_2,
    .param .u64 vadd_param_3
)
.maxntid 128, 1, 1
{
    .reg .pred %p<2>;
    .reg .b32 %r<6>;
    .reg .f32 %f<4>;
    .reg .b64 %rd<10>;

    ld.param.u64 %rd1, [vadd_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [vadd_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    ld.param.u64 %rd3, [vadd_param_2];
    cvta.to.global.u64 %rd3, %rd3;
    ld.param.u64 %rd4, [vadd_param_3];
    cvta.to.global.u64 %rd4, %rd4;
    ld.global.b32 %r1, [%rd4];
    mov.u32 %r2, %ctaid.x;
    mov.u32 %r3, %tid.x;
    mul.lo.s32 %r4, %r2, 128;
    add.s32 %r4, %r4, %r3;
    setp.ge.s32 %p1, %r4, %r1;
    @%p1 bra $L__0;
    mul.wide.s32 %rd5, %r4, 4;
    add.s64 %rd6, %rd1, %rd5;
    add.s64 %rd7, %rd2, %rd5;
    add.s64 %rd8, %rd3, %rd5;
    ld.global.f32 %f1, [%rd6];
    ld.global.f32 %f2, [%rd7];
    add.rn.f32 %f3, %f1, %f2;
    st.global.f32 [%rd8], %f3;
$L__0:
    ret;
}
"#;

/// One thread writes a word at byte 98300 of 96 KiB of dynamic shared memory, reads it back
/// and stores it to `out[0]`: needs the dynamic shared-memory limit raised above 48 KiB.
const SMEM_PTX: &str = r#"//
// tilus test kernel `smem_probe`: 1 thread per block. Written by hand.
//
.version 8.0
.target sm_80
.address_size 64

.extern .shared .align 16 .b8 tilus_smem[];

.visible .entry smem_probe(
    .param .u64 smem_probe_param_0,
    .param .u64 smem_probe_param_1
)
.maxntid 1, 1, 1
{
    .reg .b32 %r<4>;
    .reg .b64 %rd<2>;

    ld.param.u64 %rd1, [smem_probe_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    mov.u32 %r1, tilus_smem;
    mov.u32 %r2, 1234567;
    st.shared.b32 [%r1+98300], %r2;
    bar.sync 0;
    ld.shared.b32 %r3, [%r1+98300];
    st.global.b32 [%rd1], %r3;
    ret;
}
"#;

fn buf(param: usize, binding: u32, read_only: bool) -> ParamBinding {
    ParamBinding::Buffer {
        param,
        dtype: DType::F32,
        binding,
        read_only,
    }
}

fn ptx(name: &str, source: &str, launch: LaunchContract) -> Artifact {
    Artifact {
        name: name.to_string(),
        code: Code::Ptx(PtxModule {
            source: source.to_string(),
            entry_point: name.to_string(),
            arch: "sm_80".to_string(),
        }),
        launch,
    }
}

/// `vadd(a, b, c, n)`.
fn vadd() -> Artifact {
    ptx(
        "vadd",
        VADD_PTX,
        LaunchContract {
            threads: [128, 1, 1],
            params: vec![
                buf(0, 0, true),
                buf(1, 1, true),
                buf(2, 2, false),
                ParamBinding::Scalar {
                    param: 3,
                    dtype: I32,
                    word: 0,
                },
            ],
            scalars_binding: 3,
            scalar_words: 1,
            workspaces: vec![],
            grid: vec![GridExpr::CeilDiv(
                Box::new(GridExpr::Param(3)),
                Box::new(GridExpr::Const(128)),
            )],
            shared_bytes: 0,
            assumptions: vec![],
        },
    )
}

/// `smem_probe(out)` with `shared_bytes` of dynamic shared memory.
fn smem_probe(shared_bytes: u32) -> Artifact {
    ptx(
        "smem_probe",
        SMEM_PTX,
        LaunchContract {
            threads: [1, 1, 1],
            params: vec![buf(0, 0, false)],
            scalars_binding: 1,
            scalar_words: 1,
            workspaces: vec![],
            grid: vec![GridExpr::Const(1)],
            shared_bytes,
            assumptions: vec![],
        },
    )
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn bytes(xs: &[f32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn no_driver_is_an_error_not_a_panic() {
    let opened = std::panic::catch_unwind(|| CudaDevice::new(0).map(|d| d.info().to_string()));
    let result = opened.expect("CudaDevice::new must not panic");
    if tilus_runtime::cuda_driver_present() {
        match result {
            Ok(info) => eprintln!("a CUDA driver is present: {info}"),
            Err(e) => eprintln!("a CUDA driver is present but device 0 did not open: {e}"),
        }
        return;
    }
    let e = result.expect_err("no driver, so no device");
    assert!(matches!(e, RuntimeError::NoCuda { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("no CUDA driver (libcuda) found"), "{msg}");
    // Every ordinal says the same, and nothing was left half-initialized.
    let again = CudaDevice::new(3).expect_err("still no driver");
    assert!(again.to_string().contains("driver"), "{again}");
}

#[test]
fn vector_add_runs_and_is_cached_and_timed() {
    let Some(mut dev) = device() else { return };
    let info = dev.info().clone();
    assert_eq!(info.backend, "cuda");
    assert!(info.compute_capability.is_some());
    eprintln!(
        "target: {:?}; driver CUDA {:?}; {} SMs, L2 {} bytes, shared opt-in {} bytes",
        info.target(),
        dev.driver_version(),
        dev.sm_count(),
        dev.l2_bytes(),
        dev.max_shared_bytes()
    );
    let n = 1000usize;
    let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let b: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
    let da = dev.allocate_with(&bytes(&a)).expect("a");
    let db = dev.allocate_with(&bytes(&b)).expect("b");
    // One element more than the kernel writes: it must stay zero.
    let dc = dev.allocate(4 * (n + 1)).expect("c");
    let k = Kernel::Compiled(vadd());
    let args = [
        LaunchArg::Buffer(da),
        LaunchArg::Buffer(db),
        LaunchArg::Buffer(dc),
        LaunchArg::Int(n as i64),
    ];
    dev.launch(&k, &args).expect("launch");
    let c = f32s(&dev.download(dc).expect("download"));
    assert_eq!(c.len(), n + 1);
    for i in 0..n {
        assert_eq!(c[i], a[i] + b[i], "element {i}");
    }
    assert_eq!(c[n], 0.0);
    // A second launch reuses the loaded module.
    dev.launch(&k, &args).expect("launch again");
    dev.synchronize().expect("synchronize");
    assert_eq!(dev.cached_modules(), 1);
    let t = dev.time(&k, &args, 2, 5).expect("time");
    assert_eq!(t.clock, Clock::CudaEvents);
    assert_eq!(t.samples.len(), 5);
    assert!(t.median_us > 0.0 && t.min_us <= t.median_us, "{t:?}");
    let ki = dev.kernel_info(&k).expect("kernel info");
    eprintln!("vadd: {ki:?}");
    assert!(ki.registers > 0);
    // An empty grid runs nothing and is no error.
    let mut none = args;
    none[3] = LaunchArg::Int(0);
    dev.launch(&k, &none).expect("empty grid");
    // Bad arguments are errors.
    let e = dev.launch(&k, &args[..3]).expect_err("too few arguments");
    assert!(
        e.to_string().contains("3 arguments for 4 parameters"),
        "{e}"
    );
    dev.free(da).expect("free");
    assert!(matches!(
        dev.launch(&k, &args),
        Err(RuntimeError::UnknownBuffer(id)) if id == da
    ));
}

#[test]
fn dynamic_shared_memory_above_48k() {
    let Some(mut dev) = device() else { return };
    let out = dev.allocate(4).expect("out");
    let k = Kernel::Compiled(smem_probe(96 * 1024));
    dev.launch(&k, &[LaunchArg::Buffer(out)])
        .expect("96 KiB of dynamic shared memory");
    let word = dev.download(out).expect("download");
    assert_eq!(
        u32::from_le_bytes([word[0], word[1], word[2], word[3]]),
        1_234_567
    );
    // More than the device's opt-in maximum is refused before launching.
    let too_much = Kernel::Compiled(smem_probe(dev.max_shared_bytes() + 16));
    let e = dev
        .launch(&too_much, &[LaunchArg::Buffer(out)])
        .expect_err("above the opt-in maximum");
    assert!(matches!(e, RuntimeError::Unsupported { .. }), "{e}");
}

#[test]
fn rejected_ptx_and_wrong_kinds_are_errors() {
    let Some(mut dev) = device() else { return };
    let mut bad = vadd();
    if let Code::Ptx(m) = &mut bad.code {
        m.source = m.source.replace("add.rn.f32", "add.bogus.f32");
    }
    let out = dev.allocate(16).expect("buffer");
    let args = [
        LaunchArg::Buffer(out),
        LaunchArg::Buffer(out),
        LaunchArg::Buffer(out),
        LaunchArg::Int(4),
    ];
    let e = dev
        .launch(&Kernel::Compiled(bad), &args)
        .expect_err("bad PTX");
    eprintln!("rejected PTX: {e}");
    assert!(matches!(e, RuntimeError::ShaderCompile { .. }), "{e:?}");
    // The driver's JIT log names the problem.
    assert!(e.to_string().contains("bogus"), "{e}");
    let wgsl = Artifact {
        name: "w".to_string(),
        code: Code::Wgsl(WgslModule {
            source: String::new(),
            entry_point: "w".to_string(),
            uses_f16: false,
        }),
        launch: vadd().launch,
    };
    let e = dev
        .launch(&Kernel::Compiled(wgsl), &args)
        .expect_err("WGSL on CUDA");
    assert!(
        matches!(
            e,
            RuntimeError::WrongKernelKind {
                device: "cuda",
                kernel: "wgsl"
            }
        ),
        "{e:?}"
    );
    // The device still works after the errors.
    dev.launch(&Kernel::Compiled(vadd()), &args)
        .expect("good kernel after bad ones");
    dev.synchronize().expect("synchronize");
}

#[test]
fn baselines_measure_something() {
    let Some(mut dev) = device() else { return };
    let gbs = dev.copy_bandwidth_gbs().expect("copy bandwidth");
    eprintln!("device-to-device copy: {gbs:.0} GB/s");
    assert!(gbs > 1.0, "{gbs}");
    match dev.cublas_hgemm_time_us(256, 512, 1024, 2, 5) {
        Ok(us) => {
            eprintln!("cuBLAS f16 GEMM 256x512x1024: {us:.2} us");
            assert!(us > 0.0);
        }
        // libcublas may be absent even where the driver is present; any other failure fails.
        Err(e) if e.to_string().contains("no cuBLAS library") => {
            eprintln!("SKIPPED the cuBLAS baseline: {e}");
        }
        Err(e) => panic!("cuBLAS GEMM failed: {e}"),
    }
}
