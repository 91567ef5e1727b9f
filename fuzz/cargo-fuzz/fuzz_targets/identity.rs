#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ccaas_fuzz::identity(data));
