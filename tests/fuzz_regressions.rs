//! Every input a fuzz target ever crashed on (tests/data/fuzz/<target>/), replayed through the
//! same property the target checks (fuzz/harness.rs). Add a crash by copying its artifact from
//! fuzz/artifacts/<target>/ into tests/data/fuzz/<target>/ (docs/fuzzing.md).

#[allow(dead_code)]
#[path = "../fuzz/harness.rs"]
mod harness;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{target}: {} fails again", f.display());
    }
    files.len()
}

#[test]
fn split_crashes_stay_fixed() {
    replay("split", harness::split);
}

#[test]
fn edit_crashes_stay_fixed() {
    // crash-858b…: a plain scalar ending in a 2-byte character; the splicer looked for the end
    // of its line from inside that character (src/yaml/splice.rs line_end_after).
    // crash-1096…: a comment line ending in a lone CR (a YAML line break) followed by content;
    // re-serialising kept the whole "comment line" and so the content twice
    // (src/yaml/mod.rs reserialize).
    assert!(replay("edit", harness::edit) >= 2);
}

#[test]
fn policy_crashes_stay_fixed() {
    replay("policy", harness::policy);
}

#[test]
fn the_first_edit_crash_by_hand() {
    // The same input spelled out, so the test reads without the data file.
    harness::edit(b"\xffiVg \xdf\x9em: yiVg \xdf\x9e\n\n");
}

#[test]
fn block_reader_crashes_stay_fixed() {
    // crash-34c6…: `... 8000`, content after a document end marker on its line; the block reader
    // accepted it, granit refuses it (src/yaml/block.rs skip).
    assert!(replay("block_reader", harness::block_reader) >= 1);
}
