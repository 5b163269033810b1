//! WGSL identifiers for thread-IR names: sanitized, unique, and never a WGSL keyword,
//! reserved word, predeclared type or builtin function the emitter uses.

use std::collections::HashSet;

/// WGSL keywords, reserved words, predeclared types and the builtins the writer calls.
const RESERVED: &[&str] = &[
    // keywords
    "alias",
    "break",
    "case",
    "const",
    "const_assert",
    "continue",
    "continuing",
    "default",
    "diagnostic",
    "discard",
    "else",
    "enable",
    "false",
    "fn",
    "for",
    "if",
    "let",
    "loop",
    "override",
    "requires",
    "return",
    "struct",
    "switch",
    "true",
    "var",
    "while",
    // reserved words
    "NULL",
    "Self",
    "abstract",
    "active",
    "alignas",
    "alignof",
    "as",
    "asm",
    "asm_fragment",
    "async",
    "attribute",
    "auto",
    "await",
    "become",
    "cast",
    "catch",
    "class",
    "co_await",
    "co_return",
    "co_yield",
    "coherent",
    "column_major",
    "common",
    "compile",
    "compile_fragment",
    "concept",
    "const_cast",
    "consteval",
    "constexpr",
    "constinit",
    "crate",
    "debugger",
    "decltype",
    "delete",
    "demote",
    "demote_to_helper",
    "do",
    "dynamic_cast",
    "enum",
    "explicit",
    "export",
    "extends",
    "extern",
    "external",
    "fallthrough",
    "filter",
    "final",
    "finally",
    "friend",
    "from",
    "fxgroup",
    "get",
    "goto",
    "groupshared",
    "highp",
    "impl",
    "implements",
    "import",
    "inline",
    "instanceof",
    "interface",
    "layout",
    "lowp",
    "macro",
    "macro_rules",
    "match",
    "mediump",
    "meta",
    "mod",
    "module",
    "move",
    "mut",
    "mutable",
    "namespace",
    "new",
    "nil",
    "noexcept",
    "noinline",
    "nointerpolation",
    "non_coherent",
    "noncoherent",
    "noperspective",
    "null",
    "nullptr",
    "of",
    "operator",
    "package",
    "packoffset",
    "partition",
    "pass",
    "patch",
    "pixelfragment",
    "precise",
    "precision",
    "premerge",
    "priv",
    "protected",
    "pub",
    "public",
    "readonly",
    "ref",
    "regardless",
    "register",
    "reinterpret_cast",
    "require",
    "resource",
    "restrict",
    "self",
    "set",
    "shared",
    "signed",
    "sizeof",
    "smooth",
    "snorm",
    "static",
    "static_assert",
    "static_cast",
    "std",
    "subroutine",
    "super",
    "target",
    "template",
    "this",
    "thread_local",
    "throw",
    "trait",
    "try",
    "type",
    "typedef",
    "typeid",
    "typename",
    "typeof",
    "union",
    "unless",
    "unorm",
    "unsafe",
    "unsized",
    "use",
    "using",
    "varying",
    "virtual",
    "volatile",
    "wgsl",
    "where",
    "with",
    "writeonly",
    "yield",
    // predeclared types and enumerants
    "bool",
    "f16",
    "f32",
    "i32",
    "u32",
    "vec2",
    "vec3",
    "vec4",
    "mat2x2",
    "mat3x3",
    "mat4x4",
    "array",
    "atomic",
    "ptr",
    "sampler",
    "read",
    "write",
    "read_write",
    "function",
    "private",
    "workgroup",
    "uniform",
    "storage",
    // builtin functions the writer calls
    "abs",
    "atomicAnd",
    "atomicLoad",
    "atomicOr",
    "atomicStore",
    "bitcast",
    "ceil",
    "exp",
    "exp2",
    "floor",
    "fma",
    "log",
    "max",
    "min",
    "round",
    "select",
    "sqrt",
    "storageBarrier",
    "workgroupBarrier",
];

/// Hands out unique WGSL identifiers.
#[derive(Debug, Default)]
pub struct Namer {
    used: HashSet<String>,
}

impl Namer {
    /// A namer that knows the reserved words.
    pub fn new() -> Self {
        Namer {
            used: RESERVED.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A unique identifier based on `base`: characters outside `[A-Za-z0-9_]` become `_`,
    /// a leading digit or a leading `__` gets a `v` in front, and a taken name gets a
    /// `_N` suffix.
    pub fn name(&mut self, base: &str) -> String {
        let mut s: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if s.is_empty()
            || s == "_"
            || s.starts_with(|c: char| c.is_ascii_digit())
            || s.starts_with("__")
        {
            s.insert(0, 'v');
        }
        if !self.used.contains(&s) {
            self.used.insert(s.clone());
            return s;
        }
        let mut i = 1;
        loop {
            let candidate = format!("{s}_{i}");
            if !self.used.contains(&candidate) {
                self.used.insert(candidate.clone());
                return candidate;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_and_avoids_reserved_words() {
        let mut n = Namer::new();
        assert_eq!(n.name("x"), "x");
        assert_eq!(n.name("x"), "x_1");
        assert_eq!(n.name("let"), "let_1");
        assert_eq!(n.name("a.b-c"), "a_b_c");
        assert_eq!(n.name("3d"), "v3d");
        assert_eq!(n.name("__x"), "v__x");
        assert_eq!(n.name(""), "v");
        assert_eq!(n.name("_"), "v_");
        assert_eq!(n.name("select"), "select_1");
    }
}
