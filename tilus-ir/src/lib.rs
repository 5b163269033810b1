//! # tilus-ir: what a tilus program is
//!
//! This crate defines the data of tilus-rs and its meaning; it knows nothing of targets.
//!
//! - [`dtype`]: every element type (integers of 1–8, 16, 32, 64 bits; f32, f16, bf16; fp8;
//!   every minifloat `f{n}e{E}m{M}` of 3–7 bits), exact decoding, round-to-nearest-even
//!   encoding and the little-endian bit-stream packing that memory and registers share
//!   (`shared/spec/dtypes.md`).
//! - [`layout`]: the layout algebra. A register layout is a function from (thread, slot) to a
//!   tile index, built from primitives (`local`, `spatial`, …) with composition, and analysed
//!   with division, reduction and an inverse; shared layouts add strides and swizzles
//!   (`shared/spec/layouts.md`).
//! - The tile IR: a [`program::Program`] of kernels whose bodies are statements over tiles
//!   ([`inst::InstKind`]) and scalar expressions ([`expr::Expr`]), stored in arenas
//!   ([`arena`]) and typed by [`typing`]. Programs are written with the Rust
//!   [`builder`], checked by [`verify`] into a token that later stages require.
//!
//! Everything that can fail on user input returns a `Result` with an error enum that says
//! what was wrong and what was expected.
#![deny(missing_docs)]

pub mod arena;
pub mod builder;
pub mod dtype;
pub mod equiv;
pub mod expr;
pub mod inst;
pub mod interp;
pub mod layout;
pub mod program;
pub mod text;
pub mod typing;
pub mod verify;
