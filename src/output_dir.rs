//! `render --output-dir DIR`: one file per template, in the layout of `helm template
//! --output-dir`, so a GitOps repository that commits the result gets small, reviewable diffs.
//!
//! - A document with a `# Source: <chart>/templates/x.yaml` comment (Helm 3, pipes) or the
//!   Helm 4 filename annotation goes to `DIR/<chart>/templates/x.yaml`; documents from the same
//!   template share the file, in stream order.
//! - Documents helm-ha generates carry their own source, `<chart>/templates/helm-ha/<kind>-<name>.yaml`.
//! - Documents with no source (or an unsafe one: absolute, `..`) go to `DIR/helm-ha/unsourced.yaml`.
//! - Documents with no object (empty, comment-only) are not written.
//!
//! `DIR/.helm-ha-files` lists the files this run wrote; the next run removes those it does not
//! write again (and directories that became empty), and never touches any other file.

use crate::error::Failure;
use crate::stream;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The list of files helm-ha wrote, inside the output directory.
pub const MANIFEST: &str = ".helm-ha-files";
pub const UNSOURCED: &str = "helm-ha/unsourced.yaml";

/// Group the output stream's chunks into files: relative path → content. `inputs[i]` is
/// `(source, carries an object)` of input document `i`, which is output chunk `i`; chunks past
/// them (generated documents) are read for their own `# Source:` comment or filename
/// annotation.
pub fn layout(output: &str, inputs: &[(Option<String>, bool)]) -> BTreeMap<String, String> {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for (i, range) in stream::split(output).into_iter().enumerate() {
        let chunk = &output[range];
        let source = match inputs.get(i) {
            Some((_, false)) => continue,
            Some((s, true)) => s.clone(),
            None => stream::source_comment(chunk)
                .map(str::to_string)
                .or_else(|| {
                    let parsed = crate::yaml::parse(chunk).ok()?;
                    parsed
                        .value
                        .at("metadata.annotations")?
                        .get(crate::HELM4_FILENAME_ANNOTATION)?
                        .as_str()
                        .map(str::to_string)
                }),
        };
        let path = source
            .filter(|s| safe(s))
            .unwrap_or_else(|| UNSOURCED.to_string());
        let file = files.entry(path).or_default();
        if !file.is_empty() && !file.ends_with('\n') {
            file.push('\n');
        }
        let starts_with_marker = chunk.starts_with("---")
            && matches!(
                chunk.as_bytes().get(3),
                None | Some(b' ' | b'\t' | b'\r' | b'\n')
            );
        if !starts_with_marker {
            file.push_str("---\n");
        }
        file.push_str(chunk);
    }
    for content in files.values_mut() {
        if !content.ends_with('\n') {
            content.push('\n');
        }
    }
    files
}

/// A relative path of normal components ending in `.yaml`/`.yml`/`.json`, which can be joined
/// to DIR without leaving it.
fn safe(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty()
        && !path.contains('\\')
        && p.components().all(|c| matches!(c, Component::Normal(_)))
        && p.file_name().is_some_and(|n| n != MANIFEST)
}

/// Write `files` under `dir`, remove what the previous run wrote and this one does not, and
/// record the new list. Returns the paths written (joined to `dir`), in order.
pub fn write(dir: &Path, files: &BTreeMap<String, String>) -> Result<Vec<PathBuf>, Failure> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        Failure::io(format!("--output-dir: cannot {what} {}", path.display()), e)
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    let manifest = dir.join(MANIFEST);
    let previous = match std::fs::read_to_string(&manifest) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.starts_with('#') && safe(l))
            .map(str::to_string)
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io("read", &manifest, e)),
    };
    for stale in previous.iter().filter(|p| !files.contains_key(*p)) {
        let path = dir.join(stale);
        match std::fs::remove_file(&path) {
            Ok(()) => remove_empty_parents(dir, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("remove", &path, e)),
        }
    }
    let mut written = Vec::new();
    for (rel, content) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        }
        if std::fs::read(&path).ok().as_deref() != Some(content.as_bytes()) {
            atomic_write(&path, content.as_bytes()).map_err(|e| io("write", &path, e))?;
        }
        written.push(path);
    }
    let mut list = String::from("# Files written by helm-ha --output-dir; the next run removes those it no longer writes.\n");
    for rel in files.keys() {
        list.push_str(rel);
        list.push('\n');
    }
    atomic_write(&manifest, list.as_bytes()).map_err(|e| io("write", &manifest, e))?;
    Ok(written)
}

fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.helm-ha-tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Remove the directories between `file` and `dir` that are now empty.
fn remove_empty_parents(dir: &Path, file: &Path) {
    let mut cur = file.parent();
    while let Some(p) = cur {
        if p == dir || !p.starts_with(dir) || std::fs::remove_dir(p).is_err() {
            break;
        }
        cur = p.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_grouped_by_source_in_stream_order() {
        let out = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n---\n# Source: c/templates/a.yaml\nkind: A2\n---\n# empty\nkind: X\n---\n# Source: c/templates/helm-ha/pdb-a.yaml\nkind: PDB\n";
        let inputs = vec![
            (Some("c/templates/a.yaml".to_string()), true),
            (Some("c/templates/b.yaml".to_string()), true),
            (Some("c/templates/a.yaml".to_string()), true),
            (None, true),
        ];
        let files = layout(out, &inputs);
        let keys: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            vec![
                "c/templates/a.yaml",
                "c/templates/b.yaml",
                "c/templates/helm-ha/pdb-a.yaml",
                UNSOURCED
            ]
        );
        assert_eq!(files["c/templates/a.yaml"], "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/a.yaml\nkind: A2\n");
        assert_eq!(files[UNSOURCED], "---\n# empty\nkind: X\n");
        let files = layout("kind: A", &[(None, true)]);
        assert_eq!(
            files[UNSOURCED], "---\nkind: A\n",
            "a marker and a final newline are added"
        );
        assert!(layout("---\n# nothing\n", &[(None, false)]).is_empty());
    }

    #[test]
    fn only_plain_relative_paths_are_safe() {
        assert!(safe("c/templates/x.yaml"));
        assert!(!safe("/etc/passwd"));
        assert!(!safe("c/../../x.yaml"));
        assert!(!safe("./x.yaml"));
        assert!(!safe(""));
        assert!(!safe(MANIFEST));
        assert!(!safe("a\\b.yaml"));
    }

    #[test]
    fn stale_files_are_removed_and_foreign_ones_kept() {
        let dir = std::env::temp_dir().join(format!("helm-ha-outdir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("README.md"), "mine").unwrap();
        let first: BTreeMap<String, String> = [
            ("c/templates/a.yaml", "a: 1\n"),
            ("c/templates/sub/b.yaml", "b: 1\n"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        write(&dir, &first).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("c/templates/sub/b.yaml")).unwrap(),
            "b: 1\n"
        );
        let second: BTreeMap<String, String> = [("c/templates/a.yaml", "a: 2\n")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        write(&dir, &second).unwrap();
        assert!(
            !dir.join("c/templates/sub").exists(),
            "the emptied directory is removed"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("c/templates/a.yaml")).unwrap(),
            "a: 2\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("README.md")).unwrap(),
            "mine"
        );
        assert!(std::fs::read_to_string(dir.join(MANIFEST))
            .unwrap()
            .ends_with("c/templates/a.yaml\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
