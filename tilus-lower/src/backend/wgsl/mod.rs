//! The WGSL backend: [`legalize`] turns a thread kernel into a WGSL-legal one (32-bit words,
//! exact float codecs, native conversions only where the target proved them), [`emit`]
//! prints it with its launch contract and [`validate`] checks the module with naga.

pub mod emit;
pub mod legalize;
pub mod validate;
