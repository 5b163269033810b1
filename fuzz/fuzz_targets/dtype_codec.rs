//! cargo-fuzz target: [`tilus_fuzz::dtype_codec`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tilus_fuzz::dtype_codec(data));
