//! The interpreter device: buffers, argument checking and launches of tile-IR kernels.

use std::sync::Arc;

use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::program::Program;
use tilus_ir::verify::{verify, VerifiedProgram};
use tilus_lower::artifact::{Artifact, Code, LaunchContract, WgslModule};
use tilus_runtime::{Clock, Device, InterpDevice, Kernel, LaunchArg, RuntimeError};

/// `c[i] = a[i] + b[i]` for `i < n`, 128 elements per block (the builder's doc example).
fn vector_add(dtype: DType) -> Arc<VerifiedProgram> {
    let kb = KernelBuilder::new("vector_add", 4);
    let n = kb.scalar_param("n", ScalarType::I32);
    let a = kb.pointer_param("a", dtype);
    let b = kb.pointer_param("b", dtype);
    let c = kb.pointer_param("c", dtype);
    kb.grid(&[n.cdiv(128)]);
    let ga = kb.global_view(a, &[n]);
    let gb = kb.global_view(b, &[n]);
    let gc = kb.global_view(c, &[n]);
    let offset = kb.block_idx(Axis::X) * 128;
    let x = kb.load_global(&ga, &[offset], &[128]);
    let y = kb.load_global(&gb, &[offset], &[128]);
    let z = x + y;
    kb.store_global(&gc, &z, &[offset]);
    let f = kb.finish().expect("a well-formed kernel");
    Arc::new(verify(Program { functions: vec![f] }).expect("a verified program"))
}

fn f32_bytes(xs: &[f32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn buffers() {
    let mut dev = InterpDevice::new();
    assert_eq!(dev.info().backend, "interp");
    let id = dev.allocate(7).unwrap();
    assert_eq!(dev.download(id).unwrap(), vec![0; 7]);
    dev.upload(id, &[1, 2, 3, 4, 5, 6, 7]).unwrap();
    dev.upload(id, &[9, 9]).unwrap();
    assert_eq!(dev.download(id).unwrap(), vec![9, 9, 0, 0, 0, 0, 0]);
    assert!(matches!(
        dev.upload(id, &[0; 8]),
        Err(RuntimeError::UploadTooLarge { .. })
    ));
    assert_eq!(dev.buffer_size(id).unwrap(), 7);
    dev.free(id).unwrap();
    assert!(matches!(dev.free(id), Err(RuntimeError::UnknownBuffer(_))));
    // Ids of another device are rejected, not confused with ours.
    let mut other = InterpDevice::new();
    let foreign = other.allocate(7).unwrap();
    assert!(matches!(
        dev.download(foreign),
        Err(RuntimeError::UnknownBuffer(_))
    ));
}

#[test]
fn bad_launches() {
    let mut dev = InterpDevice::new();
    let program = vector_add(DType::F32);
    let k = Kernel::tile(Arc::clone(&program), "vector_add");
    let buf = LaunchArg::Buffer(dev.allocate(16).unwrap());
    let n = LaunchArg::Int(4);
    let r = dev.launch(&k, &[n, buf, buf]);
    assert!(matches!(r, Err(RuntimeError::BadLaunch { .. })), "{r:?}");
    let r = dev.launch(&k, &[buf, buf, buf, buf]);
    assert!(matches!(r, Err(RuntimeError::BadLaunch { .. })), "{r:?}");
    let r = dev.launch(&k, &[n, buf, n, buf]);
    assert!(matches!(r, Err(RuntimeError::BadLaunch { .. })), "{r:?}");
    let r = dev.launch(&Kernel::tile(program, "missing"), &[n, buf, buf, buf]);
    assert!(matches!(r, Err(RuntimeError::BadLaunch { .. })), "{r:?}");
    let wgsl = Kernel::Compiled(Artifact {
        name: "k".into(),
        code: Code::Wgsl(WgslModule {
            source: String::new(),
            entry_point: "k".into(),
            uses_f16: false,
        }),
        launch: LaunchContract {
            threads: [1, 1, 1],
            params: vec![],
            scalars_binding: 0,
            scalar_words: 1,
            workspaces: vec![],
            grid: vec![],
            shared_bytes: 0,
            assumptions: vec![],
        },
    });
    let r = dev.launch(&wgsl, &[]);
    assert!(
        matches!(
            r,
            Err(RuntimeError::WrongKernelKind {
                device: "interp",
                kernel: "wgsl"
            })
        ),
        "{r:?}"
    );
}

#[test]
fn vector_add_runs() {
    let mut dev = InterpDevice::new();
    let k = Kernel::tile(vector_add(DType::F32), "vector_add");
    let n = 300;
    let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let b: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
    let ba = dev.allocate_with(&f32_bytes(&a)).unwrap();
    let bb = dev.allocate_with(&f32_bytes(&b)).unwrap();
    let bc = dev.allocate(4 * n).unwrap();
    let args = [
        LaunchArg::Int(n as i64),
        LaunchArg::Buffer(ba),
        LaunchArg::Buffer(bb),
        LaunchArg::Buffer(bc),
    ];
    dev.launch(&k, &args).unwrap();
    dev.synchronize().unwrap();
    let want: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    assert_eq!(f32s(&dev.download(bc).unwrap()), want);
    assert_eq!(dev.last_report().map(|r| r.blocks), Some(3));
    let t = dev.time(&k, &args, 1, 3).unwrap();
    assert_eq!((t.samples.len(), t.clock), (3, Clock::WallClock));
}

#[test]
fn sub_byte_buffers_are_bit_streams() {
    // u4 elements: two per byte, element 0 in the low nibble.
    let mut dev = InterpDevice::new();
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let k = Kernel::tile(vector_add(u4), "vector_add");
    let n = 10usize;
    let pack = |xs: &[u8]| -> Vec<u8> { xs.chunks(2).map(|p| p[0] | (p[1] << 4)).collect() };
    let a: Vec<u8> = (0..n as u8).collect();
    let b: Vec<u8> = (0..n as u8).map(|i| 15 - i).collect();
    let ba = dev.allocate_with(&pack(&a)).unwrap();
    let bb = dev.allocate_with(&pack(&b)).unwrap();
    let bc = dev.allocate(n / 2).unwrap();
    let args = [
        LaunchArg::Int(n as i64),
        LaunchArg::Buffer(ba),
        LaunchArg::Buffer(bb),
        LaunchArg::Buffer(bc),
    ];
    dev.launch(&k, &args).unwrap();
    assert_eq!(dev.download(bc).unwrap(), pack(&[15; 10]));
}

#[test]
fn interpreter_errors_are_runtime_errors() {
    // A view that claims more elements than the output buffer holds.
    let mut dev = InterpDevice::new();
    let k = Kernel::tile(vector_add(DType::F32), "vector_add");
    let a = dev.allocate(4 * 64).unwrap();
    let c = dev.allocate(4 * 8).unwrap();
    let args = [
        LaunchArg::Int(64),
        LaunchArg::Buffer(a),
        LaunchArg::Buffer(a),
        LaunchArg::Buffer(c),
    ];
    let r = dev.launch(&k, &args);
    eprintln!(
        "{}",
        r.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
    );
    assert!(matches!(r, Err(RuntimeError::Interp(_))), "{r:?}");
}
