//! Runs every file under `tests/filetests/`.

use std::path::Path;

#[test]
fn filetests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("filetests");
    let files = tilus_filetests::collect(&dir);
    assert!(!files.is_empty(), "no filetests found in {}", dir.display());
    let mut failures = Vec::new();
    for f in &files {
        match tilus_filetests::run_file(f) {
            Ok(()) => eprintln!("ok   {}", f.strip_prefix(&dir).unwrap_or(f).display()),
            Err(e) => {
                eprintln!("FAIL {}", f.strip_prefix(&dir).unwrap_or(f).display());
                failures.push(e.to_string());
            }
        }
    }
    eprintln!(
        "{} passed, {} failed",
        files.len() - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} filetests failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
