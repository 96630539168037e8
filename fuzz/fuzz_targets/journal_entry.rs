#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| warroom_fuzz::journal_entry(data));
