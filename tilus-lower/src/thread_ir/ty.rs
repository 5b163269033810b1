//! Register types and constants.

use tilus_ir::dtype::DType;

/// A register (scalar value) type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    /// A truth value.
    Bool,
    /// 32-bit two's-complement integer.
    I32,
    /// 32-bit unsigned integer.
    U32,
    /// IEEE binary32.
    F32,
    /// IEEE binary16.
    F16,
    /// 64-bit two's-complement integer (not used by the WGSL path).
    I64,
    /// 64-bit unsigned integer (not used by the WGSL path).
    U64,
}

impl Ty {
    /// `bool`, `i32`, `u32`, `f32`, `f16`, `i64`, `u64`.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::I32 => "i32",
            Ty::U32 => "u32",
            Ty::F32 => "f32",
            Ty::F16 => "f16",
            Ty::I64 => "i64",
            Ty::U64 => "u64",
        }
    }

    /// Bits of the type (1 for `bool`).
    pub fn bits(self) -> u32 {
        match self {
            Ty::Bool => 1,
            Ty::F16 => 16,
            Ty::I32 | Ty::U32 | Ty::F32 => 32,
            Ty::I64 | Ty::U64 => 64,
        }
    }

    /// Whether this is an integer type.
    pub fn is_int(self) -> bool {
        matches!(self, Ty::I32 | Ty::U32 | Ty::I64 | Ty::U64)
    }

    /// Whether this is a float type.
    pub fn is_float(self) -> bool {
        matches!(self, Ty::F32 | Ty::F16)
    }

    /// Whether this is a signed integer type.
    pub fn is_signed_int(self) -> bool {
        matches!(self, Ty::I32 | Ty::I64)
    }

    /// The register type that carries elements of `dtype` (see the module documentation):
    /// `i1..i32` → `i32`, `u1..u32` → `u32`, `i64` → `i64`, `u64` → `u64`, `f32` → `f32`,
    /// `f16` → `f16`, every other float (its code) → `u32`.
    pub fn carrier(dtype: DType) -> Ty {
        match dtype {
            DType::Int { bits, signed } if bits > 32 => {
                if signed {
                    Ty::I64
                } else {
                    Ty::U64
                }
            }
            DType::Int { signed: true, .. } => Ty::I32,
            DType::Int { signed: false, .. } => Ty::U32,
            DType::F32 => Ty::F32,
            DType::F16 => Ty::F16,
            DType::BF16 | DType::F8E4M3FN | DType::F8E5M2 | DType::MiniFloat { .. } => Ty::U32,
        }
    }

    /// Whether elements of `dtype` are carried as raw codes that need [`Expr::Decode`](super::Expr::Decode) to
    /// become numbers (`bf16`, fp8, minifloats).
    pub fn is_coded(dtype: DType) -> bool {
        dtype.is_float() && !matches!(dtype, DType::F32 | DType::F16)
    }
}

/// A constant. Floats are stored as their bits so that constants compare and hash exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Const {
    /// A truth value.
    Bool(bool),
    /// An `i32`.
    I32(i32),
    /// A `u32`.
    U32(u32),
    /// An `f32`, by its bits.
    F32(u32),
    /// An `f16`, by its bits.
    F16(u16),
    /// An `i64`.
    I64(i64),
    /// A `u64`.
    U64(u64),
}

impl Const {
    /// The constant's type.
    pub fn ty(self) -> Ty {
        match self {
            Const::Bool(_) => Ty::Bool,
            Const::I32(_) => Ty::I32,
            Const::U32(_) => Ty::U32,
            Const::F32(_) => Ty::F32,
            Const::F16(_) => Ty::F16,
            Const::I64(_) => Ty::I64,
            Const::U64(_) => Ty::U64,
        }
    }

    /// The `f32` constant `x`.
    pub fn f32(x: f32) -> Const {
        Const::F32(x.to_bits())
    }

    /// The zero of a type (`false` for `bool`).
    pub fn zero(ty: Ty) -> Const {
        match ty {
            Ty::Bool => Const::Bool(false),
            Ty::I32 => Const::I32(0),
            Ty::U32 => Const::U32(0),
            Ty::F32 => Const::F32(0),
            Ty::F16 => Const::F16(0),
            Ty::I64 => Const::I64(0),
            Ty::U64 => Const::U64(0),
        }
    }

    /// The carrier-type constant holding the element code `code` of `dtype` (sign-extended
    /// for signed integers, the value's bits for `f32`/`f16`, the code for coded floats).
    pub fn of_code(dtype: DType, code: u64) -> Const {
        let code = code & dtype.code_mask();
        match Ty::carrier(dtype) {
            Ty::Bool => Const::Bool(code != 0),
            Ty::I32 => Const::I32(dtype.int_value(code) as i32),
            Ty::U32 => Const::U32(code as u32),
            Ty::F32 => Const::F32(code as u32),
            Ty::F16 => Const::F16(code as u16),
            Ty::I64 => Const::I64(dtype.int_value(code)),
            Ty::U64 => Const::U64(code),
        }
    }
}
