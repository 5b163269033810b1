//! The test kinds: `parse`, `verify`, `run`. Each is one function over a split file.

use std::fmt::Write as _;
use std::path::Path;

use tilus_ir::equiv::programs_equal;
use tilus_ir::interp::{self, args, RunOptions};
use tilus_ir::text::parse_program;
use tilus_ir::verify::verify;

use crate::{check_output, split, Failure, TestFile};

/// Runs one file test.
pub fn run_file(path: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure {
        path: path.display().to_string(),
        message: format!("cannot read: {e}"),
    })?;
    let file = split(path, &text)?;
    match file.kind.as_str() {
        "parse" => parse(&file),
        "verify" => verify_test(&file),
        "run" => run(&file),
        "compile" => crate::compile::compile(&file),
        other => Err(fail(
            &file,
            format!("unknown test kind `{other}` (parse, verify, run, compile)"),
        )),
    }
}

pub(crate) fn fail(file: &TestFile, message: String) -> Failure {
    Failure {
        path: file.path.display().to_string(),
        message,
    }
}

/// `test parse`: print(parse(src)) is the expected block, and it parses back to an equal program.
fn parse(file: &TestFile) -> Result<(), Failure> {
    let program = parse_program(&file.source).map_err(|e| fail(file, e.render()))?;
    let printed = program.to_string();
    let again = parse_program(&printed).map_err(|e| {
        fail(
            file,
            format!(
                "the printed program does not parse:\n{}\n{printed}",
                e.render()
            ),
        )
    })?;
    if !programs_equal(&program, &again) {
        return Err(fail(
            file,
            format!("parse(print(p)) differs from p; printed:\n{printed}"),
        ));
    }
    check_output(file, &printed)
}

/// `test verify`: every `; error:` annotation is matched by an error on its line, and no
/// other error is reported.
fn verify_test(file: &TestFile) -> Result<(), Failure> {
    let program = parse_program(&file.source).map_err(|e| fail(file, e.render()))?;
    let errors = match verify(program) {
        Ok(_) => Vec::new(),
        Err(errs) => errs.0,
    };
    let mut problems = String::new();
    let mut used = vec![false; errors.len()];
    for (line, text) in &file.expected_errors {
        let hit = errors.iter().enumerate().find(|(i, e)| {
            !used[*i]
                && e.loc.is_some_and(|l| l.line == *line)
                && e.to_string().contains(text.as_str())
        });
        match hit {
            Some((i, _)) => used[i] = true,
            None => {
                let _ = writeln!(
                    problems,
                    "line {line}: expected an error containing `{text}`"
                );
            }
        }
    }
    for (e, u) in errors.iter().zip(&used) {
        if !u {
            let _ = writeln!(problems, "unexpected error: {e}");
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(file, problems))
    }
}

/// `test run`: each `; run:` line runs on the tile interpreter; the output block lists the
/// buffers after each run, or the error.
fn run(file: &TestFile) -> Result<(), Failure> {
    if file.runs.is_empty() {
        return Err(fail(
            file,
            "a `test run` file needs at least one `; run:` line".into(),
        ));
    }
    let program = parse_program(&file.source).map_err(|e| fail(file, e.render()))?;
    let verified = verify(program).map_err(|e| fail(file, e.to_string()))?;
    let mut out = String::new();
    for line in &file.runs {
        let mut words = line.split_whitespace();
        let kernel = words.next().unwrap_or_default();
        let mut specs: Vec<String> = Vec::new();
        let mut opts = RunOptions::default();
        for w in words {
            // Lists may contain spaces after commas: glue words until brackets balance.
            match specs.last_mut() {
                Some(last) if last.matches('[').count() > last.matches(']').count() => {
                    last.push(' ');
                    last.push_str(w);
                }
                _ if w == "--reverse" => opts.block_order = interp::BlockOrder::Reverse,
                _ => specs.push(w.to_string()),
            }
        }
        let _ = writeln!(out, "run: {line}");
        let Some((_, f)) = verified.function(kernel) else {
            let _ = writeln!(out, "error: no kernel `{kernel}`");
            continue;
        };
        let mut kargs = match args::parse_args(f, &specs, 0) {
            Ok(a) => a,
            Err(e) => {
                let _ = writeln!(out, "error: {e}");
                continue;
            }
        };
        match interp::run(&verified, kernel, &mut kargs, &opts) {
            Ok(report) => {
                for p in &report.prints {
                    let _ = writeln!(out, "{p}");
                }
                out.push_str(&args::format_buffers(f, &kargs));
            }
            Err(e) => {
                let _ = writeln!(out, "error: {e}");
            }
        }
    }
    check_output(file, &out)
}
