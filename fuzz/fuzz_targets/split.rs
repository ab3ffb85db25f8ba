//! The stream splitter keeps every byte: the chunks are contiguous, cover the input, and every
//! chunk after the first starts right after a `...` line or at a column-0 `---` line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        // Non-UTF-8 input must be refused by `read`, never panic.
        assert!(helm_ha::stream::read(data).is_err());
        return;
    };
    let chunks = helm_ha::stream::split(text);
    let mut at = 0;
    for r in &chunks {
        assert_eq!(r.start, at, "chunks are contiguous");
        assert!(r.end > r.start, "no empty chunk");
        if r.start > 0 {
            let prev = &text[..r.start];
            let last_line = prev[..prev.len() - 1].rfind('\n').map_or(prev, |i| &prev[i + 1..]);
            assert!(text[r.start..].starts_with("---") || last_line.starts_with("..."), "a chunk starts at a marker");
        }
        at = r.end;
    }
    assert_eq!(at, text.len(), "chunks cover the input");
    assert_eq!(chunks.iter().map(|r| &text[r.clone()]).collect::<String>(), text);
    // Reading the whole stream never panics either.
    let _ = helm_ha::stream::read(data);
});
