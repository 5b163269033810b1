//! cargo-fuzz target: [`tilus_fuzz::lower`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tilus_fuzz::lower(data));
