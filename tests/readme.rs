//! The README's examples run as written. Every `sh` block carries a marker on the line before
//! it: `<!-- test: helm3 -->` or `<!-- test: helm4 -->` (run here from the repository root's
//! layout, with that Helm as `helm` and this build as `helm-ha` on PATH), `<!-- test:
//! scripts/test.sh … -->` (run by scripts/test.sh, which this test checks), or `<!-- test:
//! skip, reason -->` (only the install from the published repository). The sample output shown
//! (the diff, the drill table) is what the commands print.

mod common;

use common::helm::{helm3, helm4, kubectl, Sandbox};
use common::{root, BIN};
use std::path::Path;

struct Block {
    lang: String,
    marker: Option<String>,
    body: String,
    line: usize,
}

fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(lang) = lines[i].strip_prefix("```") {
            let start = i;
            let end = (i + 1..lines.len())
                .find(|&j| lines[j] == "```")
                .unwrap_or_else(|| panic!("README.md:{}: unclosed block", i + 1));
            let marker = lines[..start]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .and_then(|l| l.strip_prefix("<!-- test: "))
                .and_then(|l| l.strip_suffix(" -->"))
                .map(str::to_string);
            out.push(Block {
                lang: lang.to_string(),
                marker,
                body: lines[start + 1..end].join("\n"),
                line: start + 1,
            });
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

fn readme() -> Vec<Block> {
    blocks(&std::fs::read_to_string(root().join("README.md")).unwrap())
}

/// `lines` of `want` (`…` skips any number) appear in `got`, in order.
fn shown_in(want: &str, got: &str) -> Result<(), String> {
    let mut got = got.lines();
    for line in want.lines().filter(|l| l.trim() != "…") {
        if !got.any(|g| g == line) {
            return Err(line.to_string());
        }
    }
    Ok(())
}

#[test]
fn every_shell_block_is_marked_and_the_marks_hold() {
    let test_sh = std::fs::read_to_string(root().join("scripts/test.sh")).unwrap();
    let mut skipped = 0;
    for b in readme().iter().filter(|b| b.lang == "sh") {
        let marker = b
            .marker
            .as_deref()
            .unwrap_or_else(|| panic!("README.md:{}: a sh block without a test marker", b.line));
        match marker {
            "helm3" | "helm4" => {}
            m if m.starts_with("scripts/test.sh") => {
                // The commands scripts/test.sh runs itself, word for word.
                for cmd in b.body.lines() {
                    let cmd = cmd.split("   #").next().unwrap().trim();
                    let quoted = format!("'{cmd}'");
                    assert!(
                        cmd == "bash scripts/test.sh"
                            || test_sh.contains(&quoted)
                            || test_sh.lines().any(|l| l.trim() == cmd),
                        "README.md:{}: scripts/test.sh does not run `{cmd}`",
                        b.line
                    );
                }
            }
            m if m.starts_with("skip, ") => {
                skipped += 1;
                assert!(
                    b.body.contains("--git https://github.com/helm-ha/helm-ha"),
                    "README.md:{}: only the install from the published repository may be skipped",
                    b.line
                );
            }
            m => panic!("README.md:{}: unknown marker `{m}`", b.line),
        }
    }
    assert_eq!(skipped, 1);
}

#[test]
fn the_readme_examples_run_as_written() {
    let (Some(helm3), Some(helm4), Some(kubectl)) = (helm3(), helm4(), kubectl()) else {
        return;
    };
    let blocks = readme();
    let runnable: Vec<&Block> = blocks
        .iter()
        .filter(|b| matches!(b.marker.as_deref(), Some("helm3" | "helm4")))
        .collect();
    assert!(runnable.len() >= 5, "the README's examples went missing");
    let mut outputs = Vec::new();
    for (n, b) in runnable.iter().enumerate() {
        // A fresh sandbox per block whose work directory looks like the repository's root for
        // what the examples read, so what they write never lands in the tree.
        let sb = Sandbox::new(&format!("readme-{n}"));
        let work = sb.path("work");
        std::fs::create_dir_all(&work).unwrap();
        for link in ["examples", "plugin", "tests"] {
            std::os::unix::fs::symlink(root().join(link), work.join(link)).unwrap();
        }
        let helm = if b.marker.as_deref() == Some("helm4") {
            &helm4
        } else {
            &helm3
        };
        sb.link("helm", helm);
        sb.link("kubectl", &kubectl);
        sb.link("helm-ha", Path::new(BIN));
        let run = sb.run(
            Path::new("bash"),
            &["-euo", "pipefail", "-c", &b.body],
            Some(&work),
            &[],
            b"",
        );
        assert_eq!(
            run.code, 0,
            "README.md:{}:\n{}\nstdout:\n{}\nstderr:\n{}",
            b.line, b.body, run.stdout, run.stderr
        );
        assert!(
            !run.stdout.is_empty() || std::fs::read_dir(&work).unwrap().count() > 3,
            "README.md:{}: the example did nothing",
            b.line
        );
        outputs.push((b.body.clone(), run.stdout));
    }

    // The drill table shown is what the drill example prints.
    let (_, drill) = outputs
        .iter()
        .find(|(body, _)| body.contains("helm-ha drill"))
        .expect("the drill example");
    let table = blocks
        .iter()
        .find(|b| b.lang == "text" && b.body.starts_with("helm-ha drill on"))
        .expect("the drill output block");
    if let Err(line) = shown_in(&table.body, drill) {
        panic!(
            "README.md:{}: the drill prints no line `{line}`:\n{drill}",
            table.line
        );
    }
}

#[test]
fn the_readme_diff_is_what_helm_ha_diff_prints() {
    let block = readme()
        .into_iter()
        .find(|b| b.lang == "diff")
        .expect("a diff block");
    let run = common::helm_ha(
        &[
            "diff",
            "--profile",
            "plane-enterprise",
            root()
                .join("examples/plane-enterprise/rendered.yaml")
                .to_str()
                .unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The header names the file as given; the README gives it from the repository root.
    let got = run.stdout.replace(&format!("{}/", root().display()), "");
    if let Err(line) = shown_in(&block.body, &got) {
        panic!(
            "README.md:{}: `helm-ha diff` prints no line `{line}`",
            block.line
        );
    }
}
