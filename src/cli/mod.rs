//! The command-line face of the engine: `run` (the headless runner) and
//! `check` (validate diagrams without deploying them).

pub mod bench;
pub mod run;

use std::io::Write;

use crate::model;

/// Validates BPMN files and prints every problem; returns whether all are valid.
pub fn check(files: &[(String, Vec<u8>)], out: &mut dyn Write) -> bool {
    let mut ok = true;
    for (name, bytes) in files {
        match model::parse(bytes) {
            Ok(defs) => {
                let processes: Vec<String> = defs
                    .runnable()
                    .map(|p| format!("{} ({})", p.id, p.display_name()))
                    .collect();
                let _ = writeln!(out, "{name}: ok, runnable: {}", processes.join(", "));
                for w in &defs.warnings {
                    let _ = writeln!(out, "{name}:{w}");
                }
            }
            Err(e) => {
                ok = false;
                for d in &e.diagnostics {
                    let _ = writeln!(out, "{name}:{d}");
                }
            }
        }
    }
    ok
}
