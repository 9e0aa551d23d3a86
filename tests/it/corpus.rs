//! Real files from other tools and engines (`../shared/corpora`, not part of
//! this repository): every one either imports or is refused with located
//! errors — never a panic, never a hang. Skips when the folder is absent.

use std::collections::{BTreeMap, BTreeSet};
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
    // Why files are refused: reason -> number of files.
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    // Per corpus folder: (imported, refused).
    let mut by_corpus: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut slowest = (Duration::ZERO, PathBuf::new());
    // Files with a process marked isExecutable="true": (deployed, refused), and why.
    let mut executable = (0usize, 0usize);
    let mut executable_reasons: BTreeMap<String, usize> = BTreeMap::new();
    // Executable files refused for one reason only: what fixing it would gain.
    let mut sole_reasons: BTreeMap<String, usize> = BTreeMap::new();
    let report = std::env::var_os("CORPUS_REPORT");
    let mut report_lines = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let is_executable = String::from_utf8_lossy(&bytes).contains("isExecutable=\"true\"");
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
        let corpus = path
            .strip_prefix(&root)
            .ok()
            .and_then(|p| p.components().next())
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .unwrap_or_default();
        let tally = by_corpus.entry(corpus).or_default();
        match result {
            Ok(n) => {
                imported += 1;
                tally.0 += 1;
                runnable += n;
                if is_executable {
                    executable.0 += 1;
                }
            }
            Err(diags) => {
                refused += 1;
                tally.1 += 1;
                let mine: BTreeSet<String> = diags
                    .iter()
                    .filter(|d| d.severity != model::Severity::Warning)
                    .map(reason)
                    .collect();
                if is_executable {
                    executable.1 += 1;
                    if mine.len() == 1 {
                        for r in &mine {
                            *sole_reasons.entry(r.clone()).or_default() += 1;
                        }
                    }
                    if report.is_some() {
                        for r in &mine {
                            report_lines.push(format!("{}\t{r}", path.display()));
                        }
                    }
                    for r in &mine {
                        *executable_reasons.entry(r.clone()).or_default() += 1;
                    }
                }
                for r in mine {
                    *reasons.entry(r).or_default() += 1;
                }
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
    for (corpus, (i, r)) in &by_corpus {
        eprintln!("  {corpus}: {i} import, {r} refused");
    }
    let mut top: Vec<(&String, &usize)> = reasons.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    eprintln!("most common reasons to refuse (files):");
    for (r, n) in top.iter().take(25) {
        eprintln!("  {n:5}  {r}");
    }
    eprintln!(
        "executable models (a process with isExecutable=\"true\"): {} files, {} deploy, {} refused; why (files):",
        executable.0 + executable.1,
        executable.0,
        executable.1
    );
    let mut top: Vec<(&String, &usize)> = executable_reasons.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (r, n) in top.iter().take(25) {
        eprintln!("  {n:5}  {r}");
    }
    eprintln!("executable models refused for one reason only (files):");
    let mut top: Vec<(&String, &usize)> = sole_reasons.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (r, n) in top.iter().take(25) {
        eprintln!("  {n:5}  {r}");
    }
    if let Some(file) = report {
        std::fs::write(&file, report_lines.join("\n")).unwrap();
    }
    assert_eq!(imported + refused, files.len());
    assert!(imported > 0);
}

/// A refusal reason without the ids of one file: the element kind and the
/// message with quoted names blanked.
fn reason(d: &model::Diagnostic) -> String {
    let mut text = String::new();
    let mut quoted = false;
    for c in d.message.chars() {
        if c == '"' {
            quoted = !quoted;
            if quoted {
                text.push_str("\"…\"");
            }
        } else if !quoted {
            text.push(c);
        }
    }
    let severity = match d.severity {
        model::Severity::Unsupported => "unsupported",
        _ => "error",
    };
    match &d.kind {
        Some(kind) => format!("{severity}: {kind}: {text}"),
        None => format!("{severity}: {text}"),
    }
}
