//! Choosing between the CPU backend and a software wgpu adapter (lavapipe): both run on
//! this machine's cores, so the faster one is measured, once per (adapter, CPU, compiler),
//! and the verdict is stored in the cache directory (`device-choice/<key>`).
//!
//! The probe is a small streaming kernel (a multiply-add over 2^20 `f32`s), compiled for
//! each device by the pipeline and timed as a median of 5 launches after a warm-up.

use std::path::PathBuf;

use tilus_ir::text::parse_program;
use tilus_ir::verify::verify;
use tilus_lower::pipeline::{compile, CompileOptions};

use super::{CpuDevice, Device, Kernel, LaunchArg, WgpuDevice};
use crate::cache::{compiler_build, default_dir};
use crate::error::RuntimeError;

const PROBE: &str = "\
kernel probe(n: i32, a: *f32, c: *f32) grid(cdiv(n, 256)) warps(2) {
    %ga = global_view a, [n]
    %gc = global_view c, [n]
    %x = load_global %ga, [blockIdx.x * 256], shape=[256]
    %y = mul %x, %x
    %z = add %y, %x
    store_global %gc, %z, [blockIdx.x * 256]
}
";
const PROBE_N: usize = 1 << 20;

/// Median µs of the probe on `device`.
fn probe_us(device: &mut dyn Device) -> Result<f64, RuntimeError> {
    let bad = |e: String| RuntimeError::BadConfig(format!("the device probe: {e}"));
    let program = parse_program(PROBE).map_err(|e| bad(e.to_string()))?;
    let verified = verify(program).map_err(|e| bad(e.to_string()))?;
    let target = device
        .info()
        .target()
        .ok_or_else(|| bad("the device compiles nothing".into()))?;
    let artifact = compile(&verified, "probe", &target, &CompileOptions::default())
        .map_err(|e| bad(e.to_string()))?
        .artifact
        .ok_or_else(|| bad("no code".into()))?;
    let a = device.allocate(PROBE_N * 4)?;
    let c = device.allocate(PROBE_N * 4)?;
    let args = [
        LaunchArg::Int(PROBE_N as i64),
        LaunchArg::Buffer(a),
        LaunchArg::Buffer(c),
    ];
    let t = device.time(&Kernel::Compiled(artifact), &args, 1, 5);
    device.free(a)?;
    device.free(c)?;
    Ok(t?.median_us)
}

fn verdict_path(wgpu: &WgpuDevice, cpu: &CpuDevice) -> Option<PathBuf> {
    let key = blake3::hash(
        format!(
            "{}\n{}\n{}",
            wgpu.info().name,
            cpu.info().name,
            compiler_build()
        )
        .as_bytes(),
    );
    Some(
        default_dir()?
            .join("device-choice")
            .join(key.to_hex().as_str()),
    )
}

/// The faster of the CPU backend and the software adapter `wgpu`, with the reason.
pub(super) fn cpu_or_software_wgpu(wgpu: WgpuDevice) -> (Box<dyn Device>, String) {
    let mut cpu = CpuDevice::new();
    let path = verdict_path(&wgpu, &cpu);
    let stored = path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|s| {
            let mut it = s.split_whitespace();
            let pick = it.next()?.to_string();
            let cpu_us: f64 = it.next()?.parse().ok()?;
            let wgpu_us: f64 = it.next()?.parse().ok()?;
            (pick == "cpu" || pick == "wgpu").then_some((pick, cpu_us, wgpu_us, "stored"))
        });
    let mut wgpu = wgpu;
    let (pick, cpu_us, wgpu_us, how) = match stored {
        Some(v) => v,
        None => {
            let (pick, c, g) = match (probe_us(&mut cpu), probe_us(&mut wgpu)) {
                (Ok(c), Ok(g)) if g < c => ("wgpu", c, g),
                (Ok(c), Ok(g)) => ("cpu", c, g),
                (Ok(c), Err(_)) => ("cpu", c, f64::INFINITY),
                (Err(_), Ok(g)) => ("wgpu", f64::INFINITY, g),
                (Err(e), Err(_)) => {
                    return (
                        Box::new(cpu),
                        format!("cpu: the probe failed on both CPU and software wgpu ({e})"),
                    )
                }
            };
            if let Some(p) = &path {
                store(p, &format!("{pick} {c:.1} {g:.1}\n"));
            }
            (pick.to_string(), c, g, "measured now")
        }
    };
    if pick == "wgpu" {
        let reason = format!(
            "wgpu: a software adapter, faster than the CPU backend on the probe ({wgpu_us:.0} \
             us vs {cpu_us:.0} us, {how}); {}",
            wgpu.info()
        );
        (Box::new(wgpu), reason)
    } else {
        (
            Box::new(cpu),
            format!(
                "cpu: no GPU; compiled CPU code beats the software adapter on the probe \
                 ({cpu_us:.0} us vs {wgpu_us:.0} us, {how})"
            ),
        )
    }
}

/// Writes `text` to `path` atomically (a temporary file renamed over it); failures only
/// mean the probe runs again next time.
fn store(path: &std::path::Path, text: &str) {
    let Some(dir) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = dir.join(format!(".{}.tmp", std::process::id()));
    if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}
