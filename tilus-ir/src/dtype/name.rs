//! Dtype names: canonical spelling, aliases, parsing and "did you mean" suggestions.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{DType, DTypeError};

/// Every accepted spelling (lower case) mapped to its dtype; built once.
fn name_table() -> &'static HashMap<String, DType> {
    static TABLE: OnceLock<HashMap<String, DType>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = HashMap::new();
        for d in DType::all() {
            map.insert(d.name(), d);
            for a in d.aliases() {
                map.insert(a, d);
            }
        }
        map
    })
}

/// Levenshtein distance between two strings (by `char`).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Up to three canonical names nearest to `name`, measured against every spelling of each
/// dtype; ties keep canonical order. Only names within `max(2, len / 2)` edits are offered.
fn suggestions(name: &str) -> Vec<String> {
    let limit = (name.chars().count() / 2).max(2);
    let mut scored: Vec<(usize, usize, String)> = DType::all()
        .into_iter()
        .enumerate()
        .map(|(rank, d)| {
            let canonical = d.name();
            let best = std::iter::once(canonical.clone())
                .chain(d.aliases())
                .map(|s| edit_distance(name, &s))
                .min()
                .unwrap_or(usize::MAX);
            (best, rank, canonical)
        })
        .filter(|(dist, _, _)| *dist <= limit)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, _, n)| n).collect()
}

impl DType {
    /// The canonical name (`i4`, `u8`, `f32`, `bf16`, `f8e4m3fn`, `f6e3m2`, …).
    pub fn name(&self) -> String {
        match *self {
            DType::Int { bits, signed } => format!("{}{bits}", if signed { 'i' } else { 'u' }),
            DType::F32 => "f32".into(),
            DType::F16 => "f16".into(),
            DType::BF16 => "bf16".into(),
            DType::F8E4M3FN => "f8e4m3fn".into(),
            DType::F8E5M2 => "f8e5m2".into(),
            DType::MiniFloat { exp, mant } => {
                format!("f{}e{exp}m{mant}", 1 + u32::from(exp) + u32::from(mant))
            }
        }
    }

    /// Every other accepted spelling (lower case), e.g. `int4b`, `int4` for `i4`;
    /// `float8_e4m3`, `float8_e4m3fn`, `f8e4m3` for `f8e4m3fn`; `float6_e3m2`,
    /// `float6_e3m2fn`, `f6e3m2fn` for `f6e3m2`.
    pub fn aliases(&self) -> Vec<String> {
        match *self {
            DType::Int { bits, signed } => {
                let p = if signed { "int" } else { "uint" };
                if bits <= 8 {
                    vec![format!("{p}{bits}b"), format!("{p}{bits}")]
                } else {
                    vec![format!("{p}{bits}"), format!("{p}{bits}b")]
                }
            }
            DType::F32 => vec!["float32".into()],
            DType::F16 => vec!["float16".into()],
            DType::BF16 => vec!["bfloat16".into()],
            DType::F8E4M3FN => vec![
                "float8_e4m3".into(),
                "float8_e4m3fn".into(),
                "f8e4m3".into(),
            ],
            DType::F8E5M2 => vec!["float8_e5m2".into()],
            DType::MiniFloat { exp, mant } => {
                let n = 1 + u32::from(exp) + u32::from(mant);
                vec![
                    format!("float{n}_e{exp}m{mant}"),
                    format!("float{n}_e{exp}m{mant}fn"),
                    format!("f{n}e{exp}m{mant}fn"),
                ]
            }
        }
    }

    /// Parse a canonical name or any alias, ignoring ASCII case and surrounding whitespace.
    /// An unknown name gives [`DTypeError::UnknownDType`] with up to three suggestions.
    pub fn parse(name: &str) -> Result<DType, DTypeError> {
        let key = name.trim().to_ascii_lowercase();
        match name_table().get(&key) {
            Some(d) => Ok(*d),
            None => Err(DTypeError::UnknownDType {
                name: name.to_string(),
                suggestions: suggestions(&key),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("f6e3m3", "f6e3m2"), 1);
    }
}
