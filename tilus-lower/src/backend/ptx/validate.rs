//! Structural checks of emitted PTX without `ptxas`: the module declares what it uses —
//! every register below its class's declared bound, every branch target defined once — so
//! a writer or selection bug is an internal error at compile time, not a driver JIT
//! failure. (`ptxas` itself runs in the tests when `$PTXAS` is set.)

use std::collections::HashSet;

use crate::artifact::Artifact;
use crate::error::LowerError;

fn bad(name: &str, what: String) -> LowerError {
    LowerError::Internal(format!(
        "the PTX emitted for kernel `{name}` is malformed: {what}"
    ))
}

/// Checks register bounds and labels of a PTX artifact.
pub fn check_ptx(artifact: &Artifact) -> Result<(), LowerError> {
    let Some(m) = artifact.ptx() else {
        return Err(bad(&artifact.name, "not a PTX artifact".into()));
    };
    let text = &m.source;
    let mut bounds: Vec<(String, u64)> = Vec::new();
    let mut defined = HashSet::new();
    let mut used = HashSet::new();
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix(".reg ") {
            // `.reg .b32 %r<N>;`
            let decl = rest.split_whitespace().nth(1).unwrap_or("");
            if let Some((prefix, n)) = decl.trim_end_matches(';').split_once('<') {
                let n = n.trim_end_matches('>').parse().unwrap_or(0);
                bounds.push((prefix.to_string(), n));
            }
            continue;
        }
        if let Some(l) = line.strip_suffix(':') {
            if !defined.insert(l.to_string()) {
                return Err(bad(&artifact.name, format!("label {l} defined twice")));
            }
            continue;
        }
        for tok in
            line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '%' || c == '$' || c == '_'))
        {
            if let Some(l) = tok.strip_prefix("$L__") {
                used.insert(format!("$L__{l}"));
            } else if let Some(reg) = tok.strip_prefix('%') {
                let split = reg.find(|c: char| c.is_ascii_digit()).unwrap_or(reg.len());
                let (class, num) = reg.split_at(split);
                if !matches!(class, "p" | "r" | "f" | "rd") || num.is_empty() {
                    continue;
                }
                let num: u64 = num.parse().unwrap_or(u64::MAX);
                let prefix = format!("%{class}");
                match bounds.iter().find(|(p, _)| *p == prefix) {
                    Some((_, n)) if num < *n => {}
                    _ => {
                        return Err(bad(
                            &artifact.name,
                            format!("register {tok} is not declared"),
                        ))
                    }
                }
            }
        }
    }
    if let Some(l) = used.iter().find(|l| !defined.contains(*l)) {
        return Err(bad(
            &artifact.name,
            format!("branch to undefined label {l}"),
        ));
    }
    Ok(())
}
