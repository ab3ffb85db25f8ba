//! Large streams are read and written on several threads (`src/parallel.rs`): the output, and
//! the error a broken stream gets, must not depend on how many.

mod common;

use common::helm_ha_env;

/// A generated stream of `mb` MB (`gen_stream`, deterministic), well above the threshold.
fn stream(mb: usize) -> String {
    let text = helm_ha::gen_stream::generate(mb * 1_000_000, 7);
    assert!(
        text.len() > 2 * helm_ha::parallel::MIN_BYTES,
        "the stream must be large enough to be split"
    );
    text
}

#[test]
fn the_output_is_the_same_on_one_thread_and_on_many() {
    let input = stream(3);
    let one = helm_ha_env(&[], input.as_bytes(), &[("HELM_HA_THREADS", "1")]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    for threads in ["2", "3", "8"] {
        let many = helm_ha_env(&[], input.as_bytes(), &[("HELM_HA_THREADS", threads)]);
        assert_eq!(many.code, 0, "{}", many.stderr);
        // Not assert_eq!: a diff of two 3 MB streams helps nobody; the first difference does.
        let first = one
            .stdout
            .bytes()
            .zip(many.stdout.bytes())
            .position(|(a, b)| a != b);
        assert!(
            one.stdout == many.stdout,
            "{threads} threads: output differs (first at byte {first:?}, lengths {} and {})",
            one.stdout.len(),
            many.stdout.len()
        );
        assert_eq!(
            one.stderr, many.stderr,
            "{threads} threads: messages differ"
        );
    }
}

#[test]
fn a_broken_stream_reports_its_first_error_whatever_the_threads() {
    let input = stream(3);
    let docs: Vec<&str> = input.split_inclusive("\n---\n").collect();
    assert!(docs.len() > 100);
    // An unclosed quote early in the stream and a tab indentation near its end: threads reading
    // the end may fail first, but the early one is what a user must see.
    let (early, late) = (5, docs.len() - 5);
    let broken: String = docs
        .iter()
        .enumerate()
        .map(|(i, d)| match i {
            i if i == early => {
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"open\n---\n".to_string()
            }
            i if i == late => {
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tab\n---\n".to_string()
            }
            _ => d.to_string(),
        })
        .collect();
    let one = helm_ha_env(&[], broken.as_bytes(), &[("HELM_HA_THREADS", "1")]);
    assert_eq!(one.code, 2);
    assert!(one.stdout.is_empty());
    // Documents are numbered from 1 in messages.
    assert!(
        one.stderr
            .starts_with(&format!("helm-ha: error: document {} (", early + 1))
            && one.stderr.contains("invalid YAML"),
        "{}",
        one.stderr
    );
    for threads in ["2", "4"] {
        let many = helm_ha_env(&[], broken.as_bytes(), &[("HELM_HA_THREADS", threads)]);
        assert_eq!(
            (many.code, many.stdout.as_str(), many.stderr.as_str()),
            (one.code, "", one.stderr.as_str()),
            "{threads} threads"
        );
    }
}

#[test]
fn a_bad_thread_count_is_refused() {
    for bad in ["0", "x", "65", "-1"] {
        let run = helm_ha_env(
            &[],
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
            &[("HELM_HA_THREADS", bad)],
        );
        assert_eq!(run.code, 2, "{bad}");
        assert!(run.stdout.is_empty(), "{bad}");
        assert!(
            run.stderr.contains("HELM_HA_THREADS"),
            "{bad}: {}",
            run.stderr
        );
    }
}
