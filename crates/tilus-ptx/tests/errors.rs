//! Bad input is an error, never a panic: malformed text, bad accesses, divergence, limits.

mod common;
use common::*;
use tilus_ptx::{launch, LaunchConfig, Memory, Module, ParamValue, PtxError, RunOptions};

/// Lines before the body in `kernel`'s output: the body's first line is line 19.
const BODY_LINE: usize = 19;

/// A module of the documented shape with one entry `k` of `params` u64 parameters.
fn kernel(params: usize, maxntid: u32, body: &str) -> String {
    let params: Vec<String> = (0..params)
        .map(|i| format!(".param .u64 k_param_{i}"))
        .collect();
    let text = format!(
        "//\n// tilus kernel `k`: test.\n//\n.version 8.0\n.target sm_80\n.address_size 64\n\n\
         .extern .shared .align 16 .b8 tilus_smem[];\n\n.visible .entry k(\n{}\n)\n.maxntid {maxntid}, 1, 1\n{{\n\
         \x20   .reg .pred %p<4>;\n    .reg .b32 %r<16>;\n    .reg .f32 %f<8>;\n    .reg .b64 %rd<8>;\n{body}}}\n",
        params.join(", ")
    );
    assert_eq!(
        text.lines().position(|l| l.contains("%rd<8>")),
        Some(BODY_LINE - 2)
    );
    text
}

fn parse_err(body: &str) -> (usize, String) {
    match Module::parse(&kernel(1, 128, body)) {
        Err(PtxError::Parse { line, message }) => (line, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn malformed_text_names_the_line() {
    let (line, msg) = parse_err("    mov.u32 %r1, 1;\n    foo.b32 %r1, %r2;\n    ret;\n");
    assert_eq!(line, BODY_LINE + 1);
    assert!(msg.contains("foo.b32") && msg.contains("unknown"), "{msg}");

    let (line, msg) = parse_err("    ret;\n    add.s32 %r1, %r99, 1;\n");
    assert_eq!(line, BODY_LINE + 1);
    assert!(msg.contains("undeclared register `%r99`"), "{msg}");

    let (line, msg) = parse_err("    bra $L__9;\n$L__1:\n    ret;\n");
    assert_eq!(line, BODY_LINE);
    assert!(msg.contains("undefined label `$L__9`"), "{msg}");

    let (line, msg) = parse_err("\n\n    add.s32 %r1, %r2, 0xZZ;\n");
    assert_eq!(line, BODY_LINE + 2);
    assert!(msg.contains("bad immediate"), "{msg}");

    let (_, msg) = parse_err("    add.s32 %r1, %r2, 5000000000;\n");
    assert!(msg.contains("bad immediate"), "{msg}");
    let (_, msg) = parse_err("    add.rn.f32 %f1, %f2, 1;\n");
    assert!(msg.contains("bad immediate"), "{msg}");
    let (_, msg) = parse_err("    add.s32 %r1, %f2, 1;\n");
    assert!(msg.contains("is .f32"), "{msg}");
    let (_, msg) = parse_err("    ld.global.b32 %r1, [%r2];\n");
    assert!(msg.contains("global"), "{msg}");
    let (_, msg) = parse_err("    ld.shared.b32 %r1, [%rd2];\n");
    assert!(msg.contains("shared"), "{msg}");
    let (_, msg) = parse_err("    add.s32 %r1, %r2;\n");
    assert!(msg.contains("expected 3 operands"), "{msg}");
    let (_, msg) = parse_err("    add.u32 %r1, %r2, %r3;\n");
    assert!(msg.contains("not in docs/ptx.md"), "{msg}");
    let (_, msg) = parse_err("$L__1:\n$L__1:\n    ret;\n");
    assert!(msg.contains("defined twice"), "{msg}");
    let (_, msg) = parse_err("    lop3.b32 %r1, %r2, %r3, %r4, 256;\n");
    assert!(msg.contains("LUT"), "{msg}");
    let (_, msg) = parse_err("    ld.param.u64 %rd1, [nope];\n");
    assert!(msg.contains("unknown parameter"), "{msg}");
    let (_, msg) = parse_err("    cp.async.cg.shared.global [%r1], [%rd1], 8, %r2;\n");
    assert!(msg.contains("cp-size"), "{msg}");
    let (_, msg) = parse_err("    mov.u32 %r1, %tid.y;\n");
    assert!(msg.contains("%tid.y"), "{msg}");

    // Structural errors.
    for text in [
        "",
        ".version 8.0\n.target sm_80\n",
        ".version 8.0\n.target sm_80\n.address_size 32\n",
        ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry k(\n",
        ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry k()\n{\n ret;\n",
        ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry k()\n{\n .reg .f64 %d<2>;\n}\n",
        ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry k()\n{\n /* open\n",
        ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry k()\n{\n ret; #\n}\n",
    ] {
        assert!(matches!(Module::parse(text), Err(PtxError::Parse { .. })), "{text:?}");
    }
}

fn run_err(body: &str, block: u32, buffers: Vec<Vec<u8>>, max_steps: u64) -> PtxError {
    let m = Module::parse(&kernel(buffers.len(), 128, body)).unwrap_or_else(|e| panic!("{e}"));
    let mut mem = Memory::new(buffers);
    let params: Vec<ParamValue> = (0..mem.buffers.len()).map(Memory::pointer).collect();
    launch(
        &m,
        "k",
        &cfg(1, block, 256),
        &params,
        &mut mem,
        &RunOptions { max_steps },
    )
    .expect_err("the launch should fail")
}

const LOAD_PARAM: &str =
    "    ld.param.u64 %rd1, [k_param_0];\n    cvta.to.global.u64 %rd1, %rd1;\n";

#[test]
fn out_of_bounds_global_load() {
    let body = format!("{LOAD_PARAM}    mov.u32 %r1, %tid.x;\n    mul.wide.u32 %rd2, %r1, 4;\n    add.s64 %rd3, %rd1, %rd2;\n    ld.global.b32 %r2, [%rd3];\n    ret;\n");
    match run_err(&body, 32, vec![vec![0; 64]], 1000) {
        PtxError::Exec {
            line,
            thread,
            message,
            ..
        } => {
            assert_eq!(line, BODY_LINE + 5);
            assert_eq!(thread, 16);
            assert!(message.contains("buffer 0"), "{message}");
        }
        e => panic!("{e}"),
    }
    // An address in no buffer at all, a misaligned one, and a bad shared address.
    let body = format!(
        "{LOAD_PARAM}    add.s64 %rd2, %rd1, -8;\n    ld.global.b32 %r2, [%rd2];\n    ret;\n"
    );
    let e = run_err(&body, 1, vec![vec![0; 64]], 1000).to_string();
    assert!(
        e.contains("outside every buffer") && e.contains(&format!("line {}", BODY_LINE + 3)),
        "{e}"
    );
    let body = format!("{LOAD_PARAM}    ld.global.v2.b32 {{%r1, %r2}}, [%rd1+4];\n    ret;\n");
    let e = run_err(&body, 1, vec![vec![0; 64]], 1000).to_string();
    assert!(e.contains("not aligned"), "{e}");
    let body = "    mov.u32 %r1, tilus_smem;\n    st.shared.b32 [%r1+256], %r1;\n    ret;\n";
    let e = run_err(body, 1, vec![], 1000).to_string();
    assert!(e.contains("outside the dynamic shared array"), "{e}");
    let body = "    mov.u32 %r1, 0;\n    ld.shared.b32 %r2, [%r1];\n    ret;\n";
    let e = run_err(body, 1, vec![], 1000).to_string();
    assert!(e.contains("outside the dynamic shared array"), "{e}");
    // Zero extension: 0xfffffffc is not -4.
    let body = format!("{LOAD_PARAM}    mov.u32 %r1, -4;\n    cvt.u64.u32 %rd2, %r1;\n    add.s64 %rd3, %rd1, %rd2;\n    ld.global.b32 %r2, [%rd3+8];\n    ret;\n");
    let e = run_err(&body, 1, vec![vec![0; 64]], 1000).to_string();
    assert!(e.contains("0x100100000004"), "{e}");
}

#[test]
fn division_by_zero() {
    let body = "    mov.u32 %r1, %tid.x;\n    div.u32 %r2, 7, %r1;\n    ret;\n";
    let e = run_err(body, 4, vec![], 1000);
    assert!(
        matches!(&e, PtxError::Exec { line, thread: 0, message, .. } if *line == BODY_LINE + 1 && message.contains("by zero")),
        "{e}"
    );
}

#[test]
fn divergent_barrier() {
    let body = "    mov.u32 %r1, %tid.x;\n    setp.ge.u32 %p1, %r1, 32;\n    @%p1 ret;\n    bar.sync 0;\n    ret;\n";
    let e = run_err(body, 64, vec![], 1000);
    match &e {
        PtxError::Sync { message, .. } => {
            assert!(message.contains("barrier divergence"), "{message}");
            assert!(
                message.contains(&format!("line {}", BODY_LINE + 2)),
                "{message}"
            );
            assert!(
                message.contains(&format!("line {}", BODY_LINE + 3)),
                "{message}"
            );
        }
        _ => panic!("{e}"),
    }
    // A barrier that some lanes of a warp skip while others reach a collective.
    let body = "    mov.u32 %r1, %tid.x;\n    setp.ge.u32 %p1, %r1, 16;\n    @%p1 bra $L__1;\n    shfl.sync.bfly.b32 %r2, %r1, 1, 0x1f, 0xffffffff;\n$L__1:\n    bar.sync 0;\n    ret;\n";
    let e = run_err(body, 32, vec![], 1000);
    assert!(
        matches!(&e, PtxError::Sync { message, .. } if message.contains("warp divergence")),
        "{e}"
    );
    // Every thread exiting (some early) is fine.
    let body = "    mov.u32 %r1, %tid.x;\n    setp.ge.u32 %p1, %r1, 32;\n    @%p1 ret;\n    mov.u32 %r2, 1;\n    ret;\n";
    let m = Module::parse(&kernel(0, 128, body)).unwrap();
    launch(
        &m,
        "k",
        &cfg(1, 64, 0),
        &[],
        &mut Memory::default(),
        &RunOptions::default(),
    )
    .unwrap();
}

const MMA_BODY: &str = "    mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f1, %f2, %f3, %f4}, {%r1, %r2, %r3, %r4}, {%r5, %r6}, {%f1, %f2, %f3, %f4};\n    ret;\n";

#[test]
fn mma_in_a_partial_warp() {
    let e = run_err(MMA_BODY, 48, vec![], 1000);
    match &e {
        PtxError::Sync { message, .. } => {
            assert!(
                message.contains("full warp") && message.contains(&format!("line {BODY_LINE}")),
                "{message}"
            );
        }
        _ => panic!("{e}"),
    }
    // 64 threads: fine (registers are 0, so D is 0).
    let m = Module::parse(&kernel(0, 128, MMA_BODY)).unwrap();
    launch(
        &m,
        "k",
        &cfg(1, 64, 0),
        &[],
        &mut Memory::default(),
        &RunOptions::default(),
    )
    .unwrap();
    // shfl with a full membermask in a partial warp.
    let body = "    shfl.sync.bfly.b32 %r2, %r1, 1, 0x1f, 0xffffffff;\n    ret;\n";
    let e = run_err(body, 40, vec![], 1000).to_string();
    assert!(e.contains("partial warp"), "{e}");
}

#[test]
fn step_limit() {
    let body = "    mov.u32 %r1, 0;\n$L__0:\n    add.s32 %r1, %r1, 1;\n    bra $L__0;\n";
    let e = run_err(body, 32, vec![], 10_000);
    match &e {
        PtxError::StepLimit {
            max_steps, line, ..
        } => {
            assert_eq!(*max_steps, 10_000);
            assert!(*line == BODY_LINE + 2 || *line == BODY_LINE + 3);
        }
        _ => panic!("{e}"),
    }
    assert!(e.to_string().contains("step limit"));
}

#[test]
fn launch_checks() {
    let m = Module::parse(&kernel(2, 128, "    ret;\n")).unwrap();
    let mut mem = Memory::new(vec![vec![0; 4], vec![0; 4]]);
    let opts = RunOptions::default();
    let two = [Memory::pointer(0), Memory::pointer(1)];
    let err = |cfg: LaunchConfig, params: &[ParamValue], mem: &mut Memory| match launch(
        &m, "k", &cfg, params, mem, &opts,
    ) {
        Err(PtxError::Launch(msg)) => msg,
        other => panic!("expected a launch error, got {other:?}"),
    };
    assert!(err(cfg(1, 32, 0), &two[..1], &mut mem).contains("takes 2 parameters, got 1"));
    assert!(err(cfg(1, 32, 0), &[two[0], ParamValue::U32(3)], &mut mem).contains("parameter 1"));
    assert!(err(cfg(1, 256, 0), &two, &mut mem).contains(".maxntid"));
    assert!(err(cfg(0, 32, 0), &two, &mut mem).contains("zero"));
    assert!(err(cfg(1, 32, 229 * 1024), &two, &mut mem).contains("shared"));
    let big = LaunchConfig {
        grid: [1, 1, 1],
        block: [64, 32, 1],
        dynamic_shared_bytes: 0,
    };
    assert!(err(big, &two, &mut mem).contains("1024"));
    assert!(matches!(
        launch(&m, "nope", &cfg(1, 1, 0), &two, &mut mem, &opts),
        Err(PtxError::Launch(_))
    ));
    launch(&m, "k", &cfg(3, 128, 228 * 1024), &two, &mut mem, &opts).unwrap();
}

/// 1500 by default; `TILUS_PTX_FUZZ=N` for more.
fn fuzz_iterations() -> usize {
    std::env::var("TILUS_PTX_FUZZ")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

/// Mutations of valid programs (deleted, duplicated or swapped tokens and characters) parse
/// or fail cleanly, and those that parse run into a result or an error, never a panic.
#[test]
fn mutated_programs_never_panic() {
    let body = format!(
        "{LOAD_PARAM}    mov.u32 %r1, %tid.x;\n    mov.u32 %r2, tilus_smem;\n    shl.b32 %r3, %r1, 2;\n    add.s32 %r4, %r2, %r3;\n    st.shared.b32 [%r4], %r1;\n    bar.sync 0;\n    ld.shared.b32 %r5, [%r4];\n    mul.wide.u32 %rd2, %r1, 4;\n    add.s64 %rd3, %rd1, %rd2;\n$L__1:\n    setp.lt.u32 %p1, %r5, 3;\n    @%p1 add.s32 %r5, %r5, 1;\n    @%p1 bra $L__1;\n    div.u32 %r6, %r5, %r1;\n    shfl.sync.bfly.b32 %r7, %r6, 1, 0x1f, 0xffffffff;\n    cp.async.ca.shared.global [%r4], [%rd3], 4, %r1;\n    cp.async.wait_all;\n    mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {{%f1, %f2, %f3, %f4}}, {{%r1, %r2, %r3, %r4}}, {{%r5, %r6}}, {{%f1, %f2, %f3, %f4}};\n    ldmatrix.sync.aligned.m8n8.x4.shared.b16 {{%r8, %r9, %r10, %r11}}, [%r4];\n    st.global.b32 [%rd3], %r7;\n    ret;\n"
    );
    let base = kernel(1, 128, &body);
    let words: Vec<&str> = base
        .split_inclusive(|c: char| c.is_whitespace() || ",;[]{}".contains(c))
        .collect();
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut parsed = 0;
    for _ in 0..fuzz_iterations() {
        let mut w: Vec<&str> = words.clone();
        for _ in 0..rng.range(1, 4) {
            let i = rng.range(0, w.len() as i64) as usize;
            let j = rng.range(0, w.len() as i64) as usize;
            match rng.range(0, 3) {
                0 => {
                    w.remove(i);
                }
                1 => w.insert(i, words[rng.range(0, words.len() as i64) as usize]),
                _ => w.swap(i, j),
            }
        }
        let mut text: String = w.concat();
        if rng.range(0, 4) == 0 {
            let k = rng.range(0, text.len() as i64) as usize;
            if text.is_char_boundary(k) {
                text.insert(
                    k,
                    ['-', '0', 'x', '{', '%', '@', '!', '.'][rng.range(0, 8) as usize],
                );
            }
        }
        let Ok(m) = Module::parse(&text) else {
            continue;
        };
        parsed += 1;
        for entry in m.entries() {
            let n = m.params(entry).map_or(0, |p| p.len());
            let mut mem = Memory::new(vec![vec![0; 256]; n]);
            let params: Vec<ParamValue> = (0..n).map(Memory::pointer).collect();
            let _ = launch(
                &m,
                entry,
                &cfg(2, 32, 256),
                &params,
                &mut mem,
                &RunOptions { max_steps: 20_000 },
            );
        }
    }
    assert!(parsed > 10, "only {parsed} mutants parsed");
}
