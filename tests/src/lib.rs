//! # tilus-filetests: tests written as files
//!
//! Each file under `tests/filetests/<suite>/` is a `.tilus` program plus harness directives in
//! lines that start with `;` (the harness blanks them out before parsing, so line numbers stay
//! true). The first directive names the test kind:
//!
//! - `; test parse`: parse, print, parse again; the two programs must be structurally equal,
//!   and the printed text must equal the expected output block.
//! - `; test verify`: run the verifier. Every line that should be reported carries a trailing
//!   `; error: <text>`; each must be matched by an error on that line whose message contains
//!   `<text>`, and every reported error must be expected. A file without `; error:` must verify.
//! - `; test run`: parse, verify and run each `; run: KERNEL name=value …` line on the tile
//!   interpreter (arguments as for `tilus run`: `n=5`, `a=[1, 2]`, `c=zeros[4]`, `x=range[8]`);
//!   the expected output block lists every buffer after each run, or the error it stopped
//!   with (this is how missing waits and syncs are shown).
//! - `; test compile`: compile every kernel with `tilus-lower` (Cranelift's `test compile`
//!   style). `; target: wgsl` (add `f16` for an adapter whose native f16 conversions were
//!   proven) picks the target and `; emit: layouts|thread-ir|legalized|code` the stage
//!   checked (default `code`). Then, in order: each `; check: TEXT` must occur after the
//!   previous match, each `; not: TEXT` must occur nowhere, `; max-bytes: N` bounds the
//!   size. A file without checks compares the whole stage with the `; output:` block
//!   instead.
//!
//! The expected output is the block of `; ` lines after a line `; output:` at the end of the
//! file. `TILUS_BLESS=1` rewrites that block from what the test produced; otherwise a mismatch
//! fails with a line diff.
#![deny(missing_docs)]

mod compile;
mod subtest;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use subtest::run_file;

/// A test file split into its parts.
#[derive(Debug, Clone)]
pub struct TestFile {
    /// Where it came from.
    pub path: PathBuf,
    /// The whole file.
    pub text: String,
    /// The test kind (`parse`, `verify`, `run`).
    pub kind: String,
    /// `; run:` lines (for `test run`).
    pub runs: Vec<String>,
    /// `(line, text)` of every `; error: text` annotation (1-based lines).
    pub expected_errors: Vec<(u32, String)>,
    /// The program text with directive lines and trailing annotations blanked.
    pub source: String,
    /// The expected output block (without the `; ` prefixes), if any.
    pub expected_output: Option<String>,
    /// Byte offset where the `; output:` block starts (for blessing).
    pub output_start: Option<usize>,
    /// Other directives in file order: (line number, name, value), e.g. `check`, `not`,
    /// `target`, `emit`, `max-bytes`.
    pub directives: Vec<(u32, String, String)>,
}

/// Why a file test failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {message}")]
pub struct Failure {
    /// The file.
    pub path: String,
    /// What went wrong (possibly a diff).
    pub message: String,
}

/// Splits a file into program text and directives.
pub fn split(path: &Path, text: &str) -> Result<TestFile, Failure> {
    let fail = |m: String| Failure {
        path: path.display().to_string(),
        message: m,
    };
    let mut kind = None;
    let mut runs = Vec::new();
    let mut expected_errors = Vec::new();
    let mut source = String::new();
    let mut expected = None::<String>;
    let mut output_start = None;
    let mut directives = Vec::new();
    let mut offset = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let lineno = i as u32 + 1;
        let trimmed = line.trim();
        if let Some(out) = expected.as_mut() {
            let body = trimmed.strip_prefix(';').ok_or_else(|| {
                fail(format!(
                    "line {lineno}: only `;` lines may follow `; output:`"
                ))
            })?;
            out.push_str(body.strip_prefix(' ').unwrap_or(body));
            out.push('\n');
        } else if let Some(directive) = trimmed.strip_prefix(';') {
            let d = directive.trim();
            if let Some(k) = d.strip_prefix("test ") {
                kind = Some(k.trim().to_string());
            } else if let Some(r) = d.strip_prefix("run:") {
                runs.push(r.trim().to_string());
            } else if d == "output:" {
                expected = Some(String::new());
                output_start = Some(offset);
            } else if let Some((name, value)) = d.split_once(':') {
                let name = name.trim();
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                    directives.push((lineno, name.to_string(), value.trim().to_string()));
                }
            }
            source.push('\n');
        } else if let Some(pos) = line.find("; error:") {
            expected_errors.push((lineno, line[pos + 8..].trim().to_string()));
            source.push_str(&line[..pos]);
            source.push('\n');
        } else {
            source.push_str(line);
        }
        offset += line.len();
    }
    let kind = kind.ok_or_else(|| fail("no `; test <kind>` line".into()))?;
    Ok(TestFile {
        path: path.to_path_buf(),
        text: text.to_string(),
        kind,
        runs,
        expected_errors,
        source,
        expected_output: expected,
        output_start,
        directives,
    })
}

/// Compares produced output with the expected block; blesses when `TILUS_BLESS=1`.
pub fn check_output(file: &TestFile, actual: &str) -> Result<(), Failure> {
    let fail = |m: String| Failure {
        path: file.path.display().to_string(),
        message: m,
    };
    if file.expected_output.as_deref() == Some(actual) {
        return Ok(());
    }
    if std::env::var("TILUS_BLESS").is_ok_and(|v| v == "1") {
        let keep = &file.text[..file.output_start.unwrap_or(file.text.len())];
        let mut new = keep.trim_end_matches('\n').to_string();
        new.push_str("\n; output:\n");
        for line in actual.lines() {
            if line.is_empty() {
                new.push_str(";\n");
            } else {
                let _ = writeln!(new, "; {line}");
            }
        }
        std::fs::write(&file.path, new).map_err(|e| fail(format!("cannot bless: {e}")))?;
        return Ok(());
    }
    Err(fail(format!(
        "output differs from the expected block (rerun with TILUS_BLESS=1 to accept):\n{}",
        diff(file.expected_output.as_deref().unwrap_or(""), actual)
    )))
}

/// A small line diff: `-` expected, `+` actual.
pub fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    // Longest common subsequence table; files are small.
    let mut t = vec![vec![0usize; a.len() + 1]; e.len() + 1];
    for i in (0..e.len()).rev() {
        for j in (0..a.len()).rev() {
            t[i][j] = if e[i] == a[j] {
                t[i + 1][j + 1] + 1
            } else {
                t[i + 1][j].max(t[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < e.len() || j < a.len() {
        if i < e.len() && j < a.len() && e[i] == a[j] {
            let _ = writeln!(out, "  {}", e[i]);
            i += 1;
            j += 1;
        } else if j < a.len() && (i == e.len() || t[i][j + 1] >= t[i + 1][j]) {
            let _ = writeln!(out, "+ {}", a[j]);
            j += 1;
        } else {
            let _ = writeln!(out, "- {}", e[i]);
            i += 1;
        }
    }
    out
}

/// Every `.tilus` file under `dir`, sorted.
pub fn collect(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "tilus") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}
