//! Real files from other tools and engines (`../shared/corpora`, not part of
//! this repository): every one either imports or is refused with located
//! errors — never a panic, never a hang. Skips when the folder is absent.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bpmn_engine::model;

fn corpora() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} is absent; skipping the corpus test",
            dir.display()
        );
        None
    }
}

fn bpmn_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            bpmn_files(&p, out);
        } else {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_lowercase();
            if name.ends_with(".bpmn") || name.ends_with(".bpmn2") || name.ends_with(".bpmn20.xml")
            {
                out.push(p);
            }
        }
    }
}

#[test]
fn every_corpus_file_imports_or_is_refused_with_located_errors() {
    let Some(root) = corpora() else { return };
    let mut files = Vec::new();
    bpmn_files(&root, &mut files);
    files.sort();
    assert!(!files.is_empty());
    let (mut imported, mut refused, mut runnable) = (0, 0, 0);
    let mut slowest = (Duration::ZERO, PathBuf::new());
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        std::thread::spawn(move || {
            let _ = tx.send(
                model::parse(&bytes)
                    .map(|d| d.runnable().count())
                    .map_err(|e| e.diagnostics),
            );
        });
        let result = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{} hung or panicked while parsing", path.display()));
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, path.clone());
        }
        match result {
            Ok(n) => {
                imported += 1;
                runnable += n;
            }
            Err(diags) => {
                refused += 1;
                assert!(
                    !diags.is_empty(),
                    "{}: refused without a reason",
                    path.display()
                );
                for d in diags
                    .iter()
                    .filter(|d| d.severity != model::Severity::Warning)
                {
                    assert!(!d.message.is_empty());
                    assert!(
                        d.line > 0
                            || d.message.contains("limit")
                            || d.message.contains("encoding")
                            || d.message.contains("UTF-16"),
                        "{}: an error without a position: {d}",
                        path.display()
                    );
                }
            }
        }
    }
    eprintln!(
        "corpus: {} files, {imported} import ({runnable} runnable processes), {refused} refused; slowest {:?} ({})",
        files.len(),
        slowest.0,
        slowest.1.display()
    );
    assert_eq!(imported + refused, files.len());
    assert!(imported > 0);
}
