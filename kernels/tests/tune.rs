//! The autotuner: a search space of valid plans, a winner stored per shape bucket and
//! device, reused without tuning, and a poisoned or unreadable record that falls back and
//! retunes. Runs on the PTX interpreter (a compiled-code device available everywhere).

use tilus_ir::dtype::DType;
use tilus_kernels::plan::{A16WxPlan, KernelKind};
use tilus_kernels::tune::{
    choose_plan, m_bucket, record_file, search_space, TuneOptions, TuneSource,
};
use tilus_kernels::{quantize, GroupSize, QuantMode};
use tilus_lower::target::{PtxCaps, Target, WgslCaps};
use tilus_runtime::PtxInterpDevice;

const U4: DType = DType::Int {
    bits: 4,
    signed: false,
};

#[test]
fn buckets_are_about_four_per_octave() {
    let got: Vec<usize> = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100, 4096, 4097]
        .iter()
        .map(|&m| m_bucket(m))
        .collect();
    assert_eq!(got, vec![1, 2, 3, 4, 5, 7, 8, 10, 16, 20, 112, 4096, 5120]);
}

#[test]
fn the_search_space_holds_only_valid_plans_that_fit() {
    let w = (DType::F16, U4, GroupSize::Size(128), QuantMode::Symmetric);
    for target in [
        Target::Wgsl(WgslCaps::default()),
        Target::Ptx(PtxCaps::default()),
    ] {
        let caps = target.caps();
        let space = search_space(w, (16, 4096, 4096), &caps);
        assert!(space.len() > 10, "{}", space.len());
        assert_eq!(
            space[0],
            A16WxPlan::choose(KernelKind::Auto, w, (16, 4096, 4096), !caps.mma.is_empty())
        );
        for p in &space {
            p.validate().expect("valid");
            if let A16WxPlan::Simt(c) = p {
                assert!(c.threads() as u32 <= caps.max_threads);
            }
        }
        assert_eq!(
            space.iter().any(|p| matches!(p, A16WxPlan::Mma(_))),
            !caps.mma.is_empty()
        );
    }
}

#[test]
fn a_winner_is_stored_reused_and_a_poisoned_record_retunes() {
    let dir = std::env::temp_dir().join(format!("tilus-tune-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::env::set_var("TILUS_CACHE_DIR", &dir);
    let (m, n, k) = (1, 64, 128);
    let w: Vec<f32> = (0..n * k)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 500.0)
        .collect();
    let a: Vec<f32> = (0..m * k)
        .map(|i| ((i * 13 % 29) as f32 - 14.0) / 14.0)
        .collect();
    let q = quantize(
        &w,
        n,
        k,
        U4,
        GroupSize::Size(64),
        QuantMode::Symmetric,
        DType::F16,
    )
    .expect("quantizes");
    let default = A16WxPlan::choose(
        KernelKind::Auto,
        (DType::F16, U4, GroupSize::Size(64), QuantMode::Symmetric),
        (m, n, k),
        true,
    );
    let opts = TuneOptions {
        warmup: 0,
        repeats: 1,
    };
    let mut dev = PtxInterpDevice::new();
    let mut quiet = |_: usize, _: usize, _: &str| {};
    let (best, g, source) =
        choose_plan(&mut dev, default, &q, &a, m, opts, &mut quiet).expect("tunes");
    let TuneSource::Tuned(ranking) = source else {
        panic!("first run should tune, got {source:?}");
    };
    assert_eq!(best, ranking[0].0);
    let c = g.run(&mut dev).expect("runs");
    assert_eq!(c.len(), m * n);
    // Reused: nothing tuned.
    let (again, _, source) =
        choose_plan(&mut dev, default, &q, &a, m, opts, &mut quiet).expect("reuses");
    assert_eq!(source, TuneSource::Record(0));
    assert_eq!(again, best);
    // A poisoned winner (a plan that is not in the space) falls back and retunes.
    let file = record_file(&dev, &default, (m, n, k)).expect("a record path");
    let text = std::fs::read_to_string(&file).expect("a record");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1] = "0.001\ttile: simt 999x999x999, a plan that does not exist".into();
    std::fs::write(&file, lines.join("\n")).expect("writes");
    let (_, _, source) =
        choose_plan(&mut dev, default, &q, &a, m, opts, &mut quiet).expect("falls back");
    assert!(matches!(source, TuneSource::Tuned(_)), "{source:?}");
    let (_, _, source) =
        choose_plan(&mut dev, default, &q, &a, m, opts, &mut quiet).expect("reuses");
    assert_eq!(source, TuneSource::Record(0));
    // An unreadable record retunes.
    std::fs::write(&file, b"\xff\xfe not a record").expect("writes");
    let (_, _, source) =
        choose_plan(&mut dev, default, &q, &a, m, opts, &mut quiet).expect("retunes");
    assert!(matches!(source, TuneSource::Tuned(_)), "{source:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
