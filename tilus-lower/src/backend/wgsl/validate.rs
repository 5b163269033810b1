//! naga validation of emitted WGSL: parse with `naga::front::wgsl` and run the validator
//! with every capability the adapter allows.

use naga::valid::{Capabilities, ValidationFlags, Validator};

use crate::target::WgslCaps;

/// The naga capabilities an adapter with `caps` offers to our modules.
pub fn capabilities(caps: &WgslCaps) -> Capabilities {
    let mut c = Capabilities::empty();
    if caps.shader_f16 {
        c |= Capabilities::SHADER_FLOAT16;
    }
    if caps.f16_native.decode || caps.f16_native.encode {
        // `unpack2x16float`/`pack2x16float`: the probe ran them on the device.
        c |= Capabilities::SHADER_FLOAT16_IN_FLOAT32;
    }
    if caps.subgroup_size.is_some() {
        c |= Capabilities::SUBGROUP | Capabilities::SUBGROUP_BARRIER;
    }
    c
}

/// Parses and validates a WGSL module, allowing `f16` and subgroup operations; the error
/// is naga's diagnostic rendered against the source.
pub fn validate_wgsl(source: &str) -> Result<(), String> {
    let caps = WgslCaps {
        shader_f16: true,
        subgroup_size: Some(32),
        ..WgslCaps::default()
    };
    validate_wgsl_for(source, &caps)
}

/// Parses and validates a WGSL module with the capabilities of an adapter with `caps`.
pub fn validate_wgsl_for(source: &str, caps: &WgslCaps) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
    Validator::new(ValidationFlags::all(), capabilities(caps))
        .validate(&module)
        .map_err(|e| e.emit_to_string(source))?;
    Ok(())
}
