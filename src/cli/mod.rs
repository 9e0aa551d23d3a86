//! The command-line face of the engine: `run` (the headless runner), `check`
//! (validate diagrams and decisions without deploying them), `decide`
//! (evaluate a decision table), accounts and tokens, the load tool, and
//! deploying a directory of diagrams at start-up.

pub mod accounts;
pub mod bench;
pub mod run;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::runtime::Runtime;
use crate::{dmn, model};

/// Deploys every `.form`, `.dmn` and `.bpmn` file of a directory at start-up,
/// forms first so that the diagrams linking them find them (unchanged files
/// make no new version).
pub async fn deploy_directory(runtime: &Runtime, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "no diagram directory to deploy from");
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "bpmn" || x == "dmn" || x == "form")
        })
        .collect();
    files.sort_by_key(|p| (p.extension().is_none_or(|x| x != "form"), p.clone()));
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let result = match std::fs::read(&path) {
            Ok(bytes) => runtime
                .deployments()
                .deploy_at_startup(&name, &bytes)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(r) => {
                for d in r.definitions.iter().filter(|d| d.created) {
                    tracing::info!(file = %name, key = %d.key, version = d.version, "deployed");
                }
                for d in r.decisions.iter().filter(|d| d.created) {
                    tracing::info!(file = %name, decision = %d.key, version = d.version, "deployed");
                }
                for d in r.forms.iter().filter(|d| d.created) {
                    tracing::info!(file = %name, form = %d.key, version = d.version, "deployed");
                }
            }
            Err(e) => tracing::warn!(file = %name, error = %e, "not deployed"),
        }
    }
}

/// Validates BPMN (and DMN and `.form`) files and prints every problem;
/// returns whether all are valid.
pub fn check(files: &[(String, Vec<u8>)], out: &mut dyn Write) -> bool {
    let mut ok = true;
    for (name, bytes) in files {
        // What the file holds (its decisions or runnable processes), or why it is refused.
        let checked = if dmn::is_dmn(bytes) {
            dmn::parse_dmn(bytes).map(|defs| {
                let ids: Vec<&str> = defs.decisions.iter().map(|d| d.id.as_str()).collect();
                (format!("decisions: {}", ids.join(", ")), defs.warnings)
            })
        } else if model::camunda_form::is_form(name, bytes) {
            model::camunda_form::parse(bytes)
                .map(|form| {
                    let inputs = form.inputs().len();
                    (format!("form {} with {inputs} inputs", form.id), Vec::new())
                })
                .map_err(|problems| model::ParseError {
                    diagnostics: problems
                        .into_iter()
                        .map(|p| model::Diagnostic {
                            severity: model::Severity::Error,
                            line: 0,
                            column: 0,
                            element: p.component,
                            kind: p.kind,
                            message: p.message,
                        })
                        .collect(),
                })
        } else {
            model::parse(bytes).map(|defs| {
                let processes: Vec<String> = defs
                    .runnable()
                    .map(|p| format!("{} ({})", p.id, p.display_name()))
                    .collect();
                (format!("runnable: {}", processes.join(", ")), defs.warnings)
            })
        };
        let problems = match checked {
            Ok((summary, warnings)) => {
                let _ = writeln!(out, "{name}: ok, {summary}");
                warnings
            }
            Err(e) => {
                ok = false;
                e.diagnostics
            }
        };
        for d in &problems {
            let _ = writeln!(out, "{name}:{d}");
        }
    }
    ok
}

/// Evaluates decision `decision` of a DMN file with `vars` (a JSON object)
/// and prints the result as JSON. Returns the exit code: 0 evaluated, 1 the
/// evaluation failed (no UNIQUE match...), 2 bad input (the file or the variables).
pub fn decide(
    name: &str,
    bytes: &[u8],
    decision: &str,
    vars: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let defs = match dmn::parse_dmn(bytes) {
        Ok(d) => d,
        Err(e) => {
            for d in &e.diagnostics {
                let _ = writeln!(err, "{name}:{d}");
            }
            return 2;
        }
    };
    let variables = match vars.map(serde_json::from_str::<serde_json::Value>) {
        None => serde_json::Map::new(),
        Some(Ok(serde_json::Value::Object(m))) => m,
        Some(Ok(_)) => {
            let _ = writeln!(err, "error: --vars must be a JSON object");
            return 2;
        }
        Some(Err(e)) => {
            let _ = writeln!(err, "error: --vars is not valid JSON: {e}");
            return 2;
        }
    };
    match defs.evaluate(decision, &variables) {
        Ok(result) => {
            let _ = writeln!(
                out,
                "{}",
                serde_json::json!({"decision": result.decision, "results": result.results})
            );
            0
        }
        Err(dmn::DmnError::NotFound(_)) => {
            let known: Vec<&str> = defs.decisions.iter().map(|d| d.id.as_str()).collect();
            let _ = writeln!(
                err,
                "error: {name} has no decision \"{decision}\" (it has: {})",
                known.join(", ")
            );
            2
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
    }
}
