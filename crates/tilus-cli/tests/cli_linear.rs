//! GPTQ and AWQ layers written by an independent packer (`scripts/make_checkpoint.py`,
//! numpy only, from the published formats) run through `tilus linear` and give numpy's
//! answer within the bound; malformed checkpoints are errors naming the tensor.
//!
//! Needs a Python with numpy: `$TILUS_PYTHON`, else `.venv-tools/bin/python` (CI installs
//! numpy there), else `python3`. Without one the test is skipped with a printed reason,
//! unless `TILUS_REQUIRE_NUMPY=1` (CI sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("TILUS_PYTHON").map(PathBuf::from),
        Some(root().join(".venv-tools/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .args(["-c", "import numpy"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn read_npy(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path).expect("reads");
    let npy = npyz::NpyFile::new(&bytes[..]).expect("npy");
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().expect("f32"))
}

fn tilus(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_tilus"))
        .args(args)
        .output()
        .expect("runs");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn independent_gptq_and_awq_layers_match_numpy() {
    let Some(py) = python() else {
        assert!(
            std::env::var("TILUS_REQUIRE_NUMPY").as_deref() != Ok("1"),
            "TILUS_REQUIRE_NUMPY=1 but no Python with numpy was found"
        );
        eprintln!("skipped: no Python with numpy (set TILUS_PYTHON)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("tilus-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let st = Command::new(&py)
        .arg(root().join("scripts/make_checkpoint.py"))
        .arg(&dir)
        .status()
        .expect("runs the packer");
    assert!(st.success(), "the packer failed");
    let ck = dir.join("layers.safetensors");
    let ck = ck.to_str().expect("utf-8");
    for (layer, format) in [
        ("gptq4", "gptq"),
        ("gptq4_act", "gptq"),
        ("gptq8", "gptq"),
        ("awq4", "awq"),
    ] {
        for backend in ["ptx-interp", "interp"] {
            let x = dir.join(format!("{layer}.x.npy"));
            let out = dir.join(format!("{layer}.{backend}.npy"));
            let (ok, stdout, stderr) = tilus(&[
                "linear",
                "--checkpoint",
                ck,
                "--layer",
                layer,
                "--format",
                format,
                "--input",
                x.to_str().expect("utf-8"),
                "--output",
                out.to_str().expect("utf-8"),
                "--backend",
                backend,
            ]);
            assert!(ok, "{layer} on {backend}: {stderr}");
            assert!(stdout.contains(&format!("layer `{layer}`")), "{stdout}");
            let (shape, got) = read_npy(&out);
            let (want_shape, want) = read_npy(&dir.join(format!("{layer}.y.npy")));
            assert_eq!(shape, want_shape, "{layer}");
            let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
            let err = got
                .iter()
                .zip(&want)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            // f16 output rounding (2^-11 relative) plus f32 accumulation over K = 256.
            assert!(
                err <= 2e-3 * scale,
                "{layer} on {backend}: max error {err} of {scale}"
            );
        }
    }
    // Malformed checkpoints: errors that name the tensor and what was expected.
    let x = dir.join("gptq4.x.npy");
    let x = x.to_str().expect("utf-8");
    let out = dir.join("bad.npy");
    let out = out.to_str().expect("utf-8");
    let run = |layer: &str, format: &str| {
        tilus(&[
            "linear",
            "--checkpoint",
            ck,
            "--layer",
            layer,
            "--format",
            format,
            "--input",
            x,
            "--output",
            out,
            "--backend",
            "interp",
        ])
    };
    let (ok, _, err) = run("nope", "gptq");
    assert!(
        !ok && err.contains("nope.scales") && err.contains("missing"),
        "{err}"
    );
    let (ok, _, err) = run("gptq4", "awq");
    assert!(
        !ok && err.contains("gptq4.qweight") && err.contains("expected"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let (ok, _, err) = tilus(&[
        "linear",
        "--checkpoint",
        x,
        "--layer",
        "gptq4",
        "--format",
        "gptq",
        "--input",
        x,
        "--output",
        out,
    ]);
    assert!(!ok && err.contains("not a safetensors file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
