//! `test compile`: one stage of the compiler's output, checked by ordered `check:` lines,
//! `not:` lines and a size bound (or compared whole with the `; output:` block).

use tilus_ir::text::parse_program;
use tilus_ir::verify::verify;
use tilus_lower::pipeline::{compile as compile_kernel, CompileOptions, Stage};
use tilus_lower::target::{NativeF16, PtxArch, PtxCaps, Target, WgslCaps};

use crate::subtest::fail;
use crate::{check_output, Failure, TestFile};

/// The caps of `; target: wgsl [f16]`: lavapipe's limits, no subgroups; `f16` adds
/// SHADER_F16 and proven native f16 conversions. `; target: ptx [sm_80|sm_90]` is PTX for
/// that architecture (sm_80 by default).
fn target(file: &TestFile, spec: &str) -> Result<Target, Failure> {
    let mut words = spec.split_whitespace();
    match words.next() {
        Some("wgsl") => {}
        Some("ptx") => {
            let arch = match words.next() {
                None => PtxArch::Sm80,
                Some(a) => PtxArch::parse(a).ok_or_else(|| {
                    fail(
                        file,
                        format!("`; target: {spec}`: unknown architecture `{a}`"),
                    )
                })?,
            };
            return Ok(Target::Ptx(PtxCaps::for_arch(arch)));
        }
        other => {
            return Err(fail(
                file,
                format!("`; target: {spec}`: unknown target {other:?} (wgsl, ptx)"),
            ))
        }
    }
    let mut caps = WgslCaps {
        max_workgroup_storage: 32768,
        max_invocations: 1024,
        ..WgslCaps::default()
    };
    for w in words {
        match w {
            "f16" => {
                caps.shader_f16 = true;
                caps.f16_native = NativeF16 {
                    decode: true,
                    encode: true,
                };
            }
            other => {
                return Err(fail(
                    file,
                    format!("`; target: {spec}`: unknown capability `{other}` (f16)"),
                ))
            }
        }
    }
    Ok(Target::Wgsl(caps))
}

/// Runs a `test compile` file.
pub(crate) fn compile(file: &TestFile) -> Result<(), Failure> {
    let get = |name: &str| {
        file.directives
            .iter()
            .find(|(_, n, _)| n == name)
            .map(|(_, _, v)| v.as_str())
    };
    let target = target(file, get("target").unwrap_or("wgsl"))?;
    let emit = get("emit").unwrap_or("code");
    let stop_after = match emit {
        "layouts" => Stage::Layouts,
        "thread-ir" => Stage::Simplify,
        "legalized" => Stage::Legalize,
        "code" => Stage::Validate,
        other => {
            return Err(fail(
                file,
                format!("`; emit: {other}`: expected layouts, thread-ir, legalized or code"),
            ))
        }
    };
    let program = parse_program(&file.source).map_err(|e| fail(file, e.render()))?;
    let verified = verify(program).map_err(|e| fail(file, e.to_string()))?;
    let opts = CompileOptions {
        stop_after,
        ..CompileOptions::default()
    };
    let mut text = String::new();
    for f in &verified.program().functions {
        let c = compile_kernel(&verified, &f.name, &target, &opts)
            .map_err(|e| fail(file, format!("kernel `{}`: {e}", f.name)))?;
        if let (Some(a), Some(ptxas)) = (&c.artifact, std::env::var_os("PTXAS")) {
            if let Some(m) = a.ptx() {
                tilus_lower::backend::ptx::ptxas::assemble(&ptxas, &m.source, &m.arch)
                    .map_err(|e| fail(file, format!("kernel `{}`: {e}", f.name)))?;
            }
        }
        let stage = match stop_after {
            Stage::Layouts => c.layouts_text,
            Stage::Simplify => c.thread_ir.map(|k| k.to_string()).unwrap_or_default(),
            Stage::Legalize => c.legalized.map(|k| k.to_string()).unwrap_or_default(),
            _ => c
                .artifact
                .map(|a| a.code.text().to_string())
                .unwrap_or_default(),
        };
        text.push_str(&stage);
    }
    let checks: Vec<&(u32, String, String)> = file
        .directives
        .iter()
        .filter(|(_, n, _)| matches!(n.as_str(), "check" | "not" | "max-bytes"))
        .collect();
    if checks.is_empty() {
        return check_output(file, &text);
    }
    let mut pos = 0usize;
    let mut problems = Vec::new();
    for (line, name, value) in checks {
        match name.as_str() {
            "check" => match text[pos..].find(value.as_str()) {
                Some(i) => pos += i + value.len(),
                None => problems.push(format!(
                    "line {line}: `check: {value}` not found after byte {pos}"
                )),
            },
            "not" => {
                if let Some(i) = text.find(value.as_str()) {
                    problems.push(format!("line {line}: `not: {value}` found at byte {i}"));
                }
            }
            _ => match value.parse::<usize>() {
                Ok(max) if text.len() <= max => {}
                Ok(max) => problems.push(format!(
                    "line {line}: {} bytes of {emit}, more than max-bytes {max}",
                    text.len()
                )),
                Err(_) => {
                    problems.push(format!("line {line}: max-bytes `{value}` is not a number"))
                }
            },
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(
            file,
            format!("{}\n--- {emit} ---\n{text}", problems.join("\n")),
        ))
    }
}
