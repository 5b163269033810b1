//! Every library kernel (the self-test corpus: vector add, GEMM, the packers, the a16wX
//! GEMM for every weight type in tensor-core and SIMT form) compiles to PTX for sm_80 and
//! sm_90 and passes the structural checks. When `$PTXAS` is set (CI installs it), `ptxas`
//! assembles every module for its architecture and the resource line shows no spills.
//! The tensor-core kernels use `mma.sync`, and the sub-byte integer GEMMs the
//! magic-number dequantization.

use tilus_ir::program::Program;
use tilus_ir::verify::verify;
use tilus_kernels::selftest::cases;
use tilus_lower::backend::ptx::ptxas;
use tilus_lower::pipeline::{compile, CompileOptions};
use tilus_lower::target::{PtxArch, PtxCaps, Target};

#[test]
fn corpus_compiles_and_assembles_without_spills() {
    let ptxas_bin = std::env::var_os("PTXAS");
    if ptxas_bin.is_none() {
        eprintln!("PTXAS is not set: checking the PTX without assembling it");
    }
    let mut assembled = 0;
    let mut report = String::new();
    let mut spills = Vec::new();
    for case in cases().expect("the corpus builds") {
        let name = case.function.name.clone();
        let verified = verify(Program {
            functions: vec![case.function.clone()],
        })
        .expect("verifies");
        for arch in [PtxArch::Sm80, PtxArch::Sm90] {
            let target = Target::Ptx(PtxCaps::for_arch(arch));
            let c = compile(&verified, &name, &target, &CompileOptions::default())
                .unwrap_or_else(|e| panic!("{} for {}: {e}", case.name, arch.name()));
            let m = c
                .artifact
                .as_ref()
                .and_then(|a| a.ptx())
                .expect("a PTX module");
            assert!(m.source.contains(&format!(".target {}", arch.name())));
            if case.name.contains("(mma tiles)") || case.name.starts_with("gemm f16") {
                assert!(
                    m.source.contains("mma.sync.aligned.m16n8k16"),
                    "{}: no mma.sync",
                    case.name
                );
            }
            if case.name.starts_with("gemm f16") {
                assert!(
                    m.source
                        .contains("ldmatrix.sync.aligned.m8n8.x4.shared.b16")
                        && m.source
                            .contains("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16"),
                    "{}: the MMA operands are not loaded with ldmatrix",
                    case.name
                );
            }
            if case.name.starts_with("a16wx_simt") && case.name.contains(" x u") {
                assert!(
                    m.source.contains("0f4B000000"),
                    "{}: no magic-number dequantization",
                    case.name
                );
            }
            if let Some(bin) = &ptxas_bin {
                let r = ptxas::assemble(bin, &m.source, &m.arch)
                    .unwrap_or_else(|e| panic!("{}: {e}", case.name));
                if r.spills() {
                    spills.push(format!("{} on {}: {r:?}", case.name, arch.name()));
                }
                report.push_str(&format!(
                    "{:<44} {} {:>3} registers\n",
                    case.name,
                    arch.name(),
                    r.registers
                ));
                assembled += 1;
            }
        }
    }
    if ptxas_bin.is_some() {
        eprintln!("{report}ptxas assembled {assembled} modules");
    }
    assert!(
        spills.is_empty(),
        "kernels that spill:\n{}",
        spills.join("\n")
    );
}
