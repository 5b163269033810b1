//! Host functions the CPU code calls, by name: the transcendental functions and `fmod`,
//! which Cranelift has no instruction for. The runtime binds each name to the Rust function
//! of the same meaning ([`LIBCALLS`] lists them with their `f32` arity), so the results are
//! those of Rust's `f32`, as the thread IR defines them.

/// `(name, arity)` of every host function the generated code may call.
pub const LIBCALLS: &[(&str, usize)] = &[(EXP, 1), (EXP2, 1), (LN, 1), (FMOD, 2)];

/// `e^x` (`f32::exp`).
pub const EXP: &str = "tilus_expf";
/// `2^x` (`f32::exp2`).
pub const EXP2: &str = "tilus_exp2f";
/// `ln x` (`f32::ln`).
pub const LN: &str = "tilus_lnf";
/// `x % y` with the sign of `x` (Rust's `%` on `f32`).
pub const FMOD: &str = "tilus_fmodf";
