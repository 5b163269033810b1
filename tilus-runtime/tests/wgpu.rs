//! The wgpu device on hand-written WGSL kernels that follow the `Artifact` launch contract.
//!
//! Every test prints the adapter that ran it. When no adapter exists the test prints why and
//! is skipped, unless `TILUS_REQUIRE_WGPU` is set (CI sets it), in which case it fails.

use tilus_ir::dtype::DType;
use tilus_lower::artifact::{
    Artifact, Code, GridExpr, LaunchContract, ParamBinding, WgslModule, Workspace,
};
use tilus_runtime::{
    Clock, Device, InterpDevice, Kernel, LaunchArg, RuntimeError, WgpuDevice, WgpuOptions,
};

const U32: DType = DType::Int {
    bits: 32,
    signed: false,
};
const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};

/// The wgpu device, or `None` when the test is skipped (the one rule:
/// [`tilus_runtime::skip::wgpu_or_skip`]).
fn device() -> Option<WgpuDevice> {
    tilus_runtime::skip::wgpu_or_skip()
        .unwrap_or_else(|e| panic!("TILUS_REQUIRE_WGPU is set but wgpu failed: {e}"))
}

fn buf(param: usize, dtype: DType, binding: u32, read_only: bool) -> ParamBinding {
    ParamBinding::Buffer {
        param,
        dtype,
        binding,
        read_only,
    }
}

fn words(xs: &[u32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `c = a ⊕ b` over `n` u32 words, 64 threads per workgroup, `n` is parameter 3 (i32).
fn binary_kernel(name: &str, header: &str, body: &str, extra: Vec<ParamBinding>) -> Artifact {
    let source = format!(
        "{header}
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> c: array<u32>;
@group(0) @binding(3) var<storage, read> scalars: array<u32>;

@compute @workgroup_size(64)
fn {name}(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let n = bitcast<i32>(scalars[0]);
    let i = gid.x;
    if (i32(i) < n) {{
        {body}
    }}
}}
"
    );
    let mut params = vec![
        buf(0, U32, 0, true),
        buf(1, U32, 1, true),
        buf(2, U32, 2, false),
        ParamBinding::Scalar {
            param: 3,
            dtype: I32,
            word: 0,
        },
    ];
    params.extend(extra);
    Artifact {
        name: name.to_string(),
        code: Code::Wgsl(WgslModule {
            source,
            entry_point: name.to_string(),
            uses_f16: header.contains("enable f16"),
        }),
        launch: LaunchContract {
            threads: [64, 1, 1],
            scalar_words: params.len() as u32 - 3,
            params,
            scalars_binding: 3,
            workspaces: vec![],
            grid: vec![GridExpr::CeilDiv(
                Box::new(GridExpr::Param(3)),
                Box::new(GridExpr::Const(64)),
            )],
            shared_bytes: 0,
            assumptions: vec![],
        },
    }
}

/// Rewrites the WGSL source of a kernel.
fn set_source(k: &mut Artifact, f: impl FnOnce(&str) -> String) {
    let Code::Wgsl(m) = &mut k.code else {
        panic!("`{}` is not a WGSL kernel", k.name);
    };
    m.source = f(&m.source);
}

fn add_u32() -> Artifact {
    binary_kernel("add_u32", "", "c[i] = a[i] + b[i];", vec![])
}

/// Runs a binary kernel on `a`, `b` with `extra` scalar arguments and returns `c`.
fn run_binary(
    dev: &mut WgpuDevice,
    k: &Artifact,
    a: &[u32],
    b: &[u32],
    extra: &[LaunchArg],
) -> Vec<u32> {
    let n = a.len();
    let ba = dev.allocate_with(&words(a)).unwrap();
    let bb = dev.allocate_with(&words(b)).unwrap();
    let bc = dev.allocate(4 * n).unwrap();
    let mut args = vec![
        LaunchArg::Buffer(ba),
        LaunchArg::Buffer(bb),
        LaunchArg::Buffer(bc),
        LaunchArg::Int(n as i64),
    ];
    args.extend_from_slice(extra);
    dev.launch(&Kernel::Compiled(k.clone()), &args).unwrap();
    dev.synchronize().unwrap();
    let out = from_words(&dev.download(bc).unwrap());
    for id in [ba, bb, bc] {
        dev.free(id).unwrap();
    }
    out
}

#[test]
fn u32_add_and_pipeline_cache() {
    let Some(mut dev) = device() else { return };
    let n = 1000u32;
    let a: Vec<u32> = (0..n).map(|i| i.wrapping_mul(2_654_435_761)).collect();
    let b: Vec<u32> = (0..n).map(|i| i ^ 0xdead_beef).collect();
    let k = add_u32();
    let c = run_binary(&mut dev, &k, &a, &b, &[]);
    let want: Vec<u32> = a.iter().zip(&b).map(|(x, y)| x.wrapping_add(*y)).collect();
    assert_eq!(c, want);
    // Same source again: one pipeline in the cache.
    let c2 = run_binary(&mut dev, &k, &b, &a, &[]);
    assert_eq!(c2, want);
    assert_eq!(dev.cached_pipelines(), 1);
}

#[test]
fn f32_axpy_via_bitcast() {
    let Some(mut dev) = device() else { return };
    let k = binary_kernel(
        "axpy_f32",
        "",
        "let alpha = bitcast<f32>(scalars[1]);
        c[i] = bitcast<u32>(bitcast<f32>(a[i]) + alpha * bitcast<f32>(b[i]));",
        vec![ParamBinding::Scalar {
            param: 4,
            dtype: DType::F32,
            word: 1,
        }],
    );
    let n = 333;
    let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 7.0).collect();
    let b: Vec<f32> = (0..n).map(|i| (i % 17) as f32 * 0.25).collect();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    let c = run_binary(&mut dev, &k, &bits(&a), &bits(&b), &[LaunchArg::Float(2.0)]);
    let want: Vec<u32> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x + 2.0 * y).to_bits())
        .collect();
    assert_eq!(c, want);
}

#[test]
fn f16_add_when_available() {
    let Some(mut dev) = device() else { return };
    if !dev.info().shader_f16 {
        eprintln!(
            "SKIPPED f16 part: adapter `{}` lacks SHADER_F16",
            dev.info().name
        );
        let k = binary_kernel("add_f16", "enable f16;", "c[i] = a[i];", vec![]);
        let e = dev.allocate(4).unwrap();
        let args = [LaunchArg::Buffer(e); 3];
        let r = dev.launch(
            &Kernel::Compiled(k),
            &[args[0], args[1], args[2], LaunchArg::Int(0)],
        );
        assert!(matches!(r, Err(RuntimeError::Unsupported { .. })), "{r:?}");
        return;
    }
    let k = binary_kernel(
        "add_f16",
        "enable f16;",
        // Not `bitcast<vec2<f16>>(u32)`: naga 30 mistypes bitcasts that change the width
        // (it keeps 32-bit lanes), and the results are garbage on lavapipe. The exact
        // route is unpack2x16float (f16 -> f32 is exact) and pack2x16float.
        "let x = vec2<f16>(unpack2x16float(a[i]));
        let y = vec2<f16>(unpack2x16float(b[i]));
        c[i] = pack2x16float(vec2<f32>(x + y));",
        vec![],
    );
    // Two f16 per word; values and sums are exact in f16.
    let halves_a: Vec<half::f16> = (0..256)
        .map(|i| half::f16::from_f32(i as f32 * 0.25))
        .collect();
    let halves_b: Vec<half::f16> = (0..256)
        .map(|i| half::f16::from_f32(-(i as f32) * 0.125))
        .collect();
    let pack = |h: &[half::f16]| {
        h.chunks_exact(2)
            .map(|p| u32::from(p[0].to_bits()) | (u32::from(p[1].to_bits()) << 16))
            .collect::<Vec<u32>>()
    };
    let c = run_binary(&mut dev, &k, &pack(&halves_a), &pack(&halves_b), &[]);
    let sums: Vec<half::f16> = halves_a
        .iter()
        .zip(&halves_b)
        .map(|(x, y)| half::f16::from_f32(x.to_f32() + y.to_f32()))
        .collect();
    assert_eq!(c, pack(&sums));
}

#[test]
fn odd_sizes_pad_and_round_trip() {
    let Some(mut dev) = device() else { return };
    let bytes: Vec<u8> = (0..13u8).map(|i| i * 7 + 1).collect();
    let id = dev.allocate(13).unwrap();
    assert_eq!(dev.buffer_size(id).unwrap(), 13);
    dev.upload(id, &bytes).unwrap();
    assert_eq!(dev.download(id).unwrap(), bytes);
    // A shorter upload zeroes the rest.
    dev.upload(id, &[9, 9, 9, 9, 9]).unwrap();
    let mut want = vec![0u8; 13];
    want[..5].fill(9);
    assert_eq!(dev.download(id).unwrap(), want);
    let r = dev.upload(id, &[0; 14]);
    assert!(
        matches!(r, Err(RuntimeError::UploadTooLarge { .. })),
        "{r:?}"
    );
    dev.free(id).unwrap();
    assert!(matches!(
        dev.download(id),
        Err(RuntimeError::UnknownBuffer(_))
    ));
    let empty = dev.allocate(0).unwrap();
    assert!(dev.download(empty).unwrap().is_empty());
}

#[test]
fn workspace_is_clean_on_every_run_and_timing_works() {
    let Some(mut dev) = device() else { return };
    // Each thread takes a ticket from a workspace counter: the tickets are 0..n exactly
    // when the workspace starts at zero.
    let source = "
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<storage, read> scalars: array<u32>;
@group(0) @binding(2) var<storage, read_write> counter: array<atomic<u32>>;

@compute @workgroup_size(32)
fn tickets(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.x < scalars[0]) {
        out[gid.x] = atomicAdd(&counter[0], 1u);
    }
}
";
    let k = Artifact {
        name: "tickets".into(),
        code: Code::Wgsl(WgslModule {
            source: source.into(),
            entry_point: "tickets".into(),
            uses_f16: false,
        }),
        launch: LaunchContract {
            threads: [32, 1, 1],
            params: vec![
                buf(0, U32, 0, false),
                ParamBinding::Scalar {
                    param: 1,
                    dtype: U32,
                    word: 0,
                },
            ],
            scalars_binding: 1,
            scalar_words: 1,
            workspaces: vec![Workspace {
                binding: 2,
                dtype: U32,
                elements: GridExpr::Const(1),
                requires_clean: true,
            }],
            grid: vec![GridExpr::CeilDiv(
                Box::new(GridExpr::Param(1)),
                Box::new(GridExpr::Const(32)),
            )],
            shared_bytes: 0,
            assumptions: vec![],
        },
    };
    let n = 100u32;
    let out = dev.allocate(4 * n as usize).unwrap();
    let args = [LaunchArg::Buffer(out), LaunchArg::Int(i64::from(n))];
    let kernel = Kernel::Compiled(k);
    let t = dev.time(&kernel, &args, 2, 5).unwrap();
    eprintln!("tickets: {t:?}");
    assert_eq!(t.samples.len(), 5);
    assert!(t.min_us <= t.median_us && t.median_us.is_finite());
    assert_eq!(
        t.clock,
        if dev.info().timestamps {
            Clock::GpuTimestamps
        } else {
            Clock::WallClock
        }
    );
    let mut got = from_words(&dev.download(out).unwrap());
    got.sort_unstable();
    assert_eq!(got, (0..n).collect::<Vec<_>>());
}

#[test]
fn shader_errors_are_errors_not_panics() {
    let Some(mut dev) = device() else { return };
    // A parse error.
    let mut k = add_u32();
    set_source(&mut k, |s| s.replace("a[i] + b[i]", "a[i] +* b[i]"));
    let e = dev.allocate(4).unwrap();
    let args = [
        LaunchArg::Buffer(e),
        LaunchArg::Buffer(e),
        LaunchArg::Buffer(e),
        LaunchArg::Int(1),
    ];
    let r = dev.launch(&Kernel::Compiled(k), &args);
    eprintln!(
        "{}",
        r.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
    );
    assert!(
        matches!(r, Err(RuntimeError::ShaderCompile { .. })),
        "{r:?}"
    );
    // Parses, but the device rejects it (too many invocations per workgroup).
    let mut k = add_u32();
    let too_many = dev.info().max_invocations * 2;
    set_source(&mut k, |s| {
        s.replace(
            "@workgroup_size(64)",
            &format!("@workgroup_size({too_many})"),
        )
    });
    k.launch.threads = [too_many, 1, 1];
    let r = dev.launch(&Kernel::Compiled(k), &args);
    eprintln!(
        "{}",
        r.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
    );
    assert!(
        matches!(r, Err(RuntimeError::ShaderCompile { .. })),
        "{r:?}"
    );
    // The device still works afterwards.
    let c = run_binary(&mut dev, &add_u32(), &[1, 2], &[3, 4], &[]);
    assert_eq!(c, vec![4, 6]);
}

#[test]
fn bad_launches_are_errors() {
    let Some(mut dev) = device() else { return };
    let k = Kernel::Compiled(add_u32());
    let e = dev.allocate(4).unwrap();
    let b = LaunchArg::Buffer(e);
    // Argument count.
    let r = dev.launch(&k, &[b, b, b]);
    assert!(matches!(r, Err(RuntimeError::BadLaunch { .. })), "{r:?}");
    // A scalar where a buffer belongs.
    let r = dev.launch(&k, &[b, LaunchArg::Int(1), b, LaunchArg::Int(1)]);
    assert!(matches!(r, Err(RuntimeError::BadLaunch { .. })), "{r:?}");
    // An i32 out of range.
    let r = dev.launch(&k, &[b, b, b, LaunchArg::Int(1 << 40)]);
    assert!(matches!(r, Err(RuntimeError::BadLaunch { .. })), "{r:?}");
    // A negative grid.
    let r = dev.launch(&k, &[b, b, b, LaunchArg::Int(-1000)]);
    assert!(matches!(r, Err(RuntimeError::BadLaunch { .. })), "{r:?}");
    // A buffer from another device.
    let mut other = InterpDevice::new();
    let foreign = LaunchArg::Buffer(other.allocate(4).unwrap());
    let r = dev.launch(&k, &[b, foreign, b, LaunchArg::Int(1)]);
    assert!(matches!(r, Err(RuntimeError::UnknownBuffer(_))), "{r:?}");
    // A tile kernel on wgpu, a WGSL kernel on the interpreter.
    let r = other.launch(&k, &[b, b, b, LaunchArg::Int(1)]);
    assert!(
        matches!(r, Err(RuntimeError::WrongKernelKind { .. })),
        "{r:?}"
    );
    // Buffers over the limit.
    let limit = dev.max_buffer_bytes();
    if let Ok(too_big) = usize::try_from(limit + 4) {
        let r = dev.allocate(too_big);
        eprintln!(
            "{}",
            r.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
        );
        assert!(
            matches!(r, Err(RuntimeError::BufferTooLarge { .. })),
            "{r:?}"
        );
    }
}

#[test]
fn missing_backend_gives_a_clear_error() {
    // GL is not compiled in, so this instance has no adapter whatever the machine has.
    let r = WgpuDevice::with_options(&WgpuOptions {
        backends: wgpu::Backends::GL,
        adapter_name: None,
    });
    let e = r.expect_err("no GL backend in this build");
    let msg = e.to_string();
    eprintln!("{msg}");
    assert!(matches!(e, RuntimeError::NoAdapter { .. }));
    for needle in ["Vulkan", "Metal", "DX12", "mesa-vulkan-drivers", "interp"] {
        assert!(msg.contains(needle), "`{needle}` missing from: {msg}");
    }
    let r = WgpuDevice::with_options(&WgpuOptions {
        backends: wgpu::Backends::empty(),
        adapter_name: None,
    });
    assert!(matches!(r, Err(RuntimeError::NoAdapter { .. })));
    let r = WgpuDevice::with_options(&WgpuOptions {
        backends: wgpu::Backends::all(),
        adapter_name: Some("no adapter is called this".into()),
    });
    assert!(matches!(r, Err(RuntimeError::NoAdapter { .. })));
}

#[test]
fn default_device_says_which_and_why() {
    if std::env::var_os("TILUS_DEVICE").is_some() {
        eprintln!("SKIPPED: TILUS_DEVICE is set");
        return;
    }
    let chosen = tilus_runtime::default_device().unwrap();
    eprintln!("default device: {}", chosen.reason);
    let backend = chosen.device.info().backend;
    match device() {
        // A hardware adapter always wins; a software one (lavapipe) only when the probe
        // measured it faster than the CPU backend.
        Some(d) if !d.info().software => assert_eq!(backend, "wgpu"),
        Some(_) => assert!(backend == "wgpu" || backend == "cpu", "{backend}"),
        None => assert_eq!(backend, "cpu"),
    }
    assert!(chosen.reason.starts_with(chosen.device.info().backend));
}

/// A launch that breaks the contract's assumptions is refused with an error that names
/// them, and one that keeps them runs.
#[test]
fn assumptions_are_checked_at_launch() {
    let Some(mut dev) = device() else { return };
    let mut k = add_u32();
    k.launch.assumptions = vec![tilus_lower::artifact::Assumption {
        param: 3,
        divisor: 4,
    }];
    let ok = run_binary(&mut dev, &k, &[1, 2, 3, 4], &[10, 20, 30, 40], &[]);
    assert_eq!(ok, vec![11, 22, 33, 44]);
    let a = dev.allocate_with(&words(&[1, 2, 3, 4, 5, 6])).unwrap();
    let args = [
        LaunchArg::Buffer(a),
        LaunchArg::Buffer(a),
        LaunchArg::Buffer(a),
        LaunchArg::Int(6),
    ];
    let e = dev
        .launch(&Kernel::Compiled(k), &args)
        .expect_err("n = 6 breaks n % 4 == 0");
    assert!(e.to_string().contains("multiple of 4"), "{e}");
}
