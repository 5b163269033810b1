//! The WGSL backend: the shared word legalization ([`crate::backend::legalize`], with the
//! WGSL profile: exact float codecs, native conversions only where the target proved them)
//! gives a WGSL-legal kernel, [`emit`] prints it with its launch contract and [`validate`]
//! checks the module with naga.

pub mod emit;
pub mod validate;
