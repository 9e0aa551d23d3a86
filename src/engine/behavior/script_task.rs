//! Script task.
//!
//! > "A Script Task is executed by a business process engine. [...] When the
//! > Task is ready to start, the engine will execute the script. When the script
//! > is completed, the Task will also be completed." (BPMN 2.0, 10.3.3)
//!
//! Scripts are rhai, run inline under a step budget: a runaway script stops and
//! becomes an incident. Every top-level variable the script creates or changes
//! becomes a process variable (set like any other write), except names that
//! start with `_`, which stay private to the script. `camunda:resultVariable`
//! receives the value of the script's last expression.

use serde_json::Map;

use super::super::run::Run;
use super::Outcome;
use crate::model::{NodeIdx, NodeKind};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let NodeKind::ScriptTask(s) = &run.process.nodes[node].kind else {
        return Ok(Outcome::Done);
    };
    let result = run
        .evaluate(key, |b| s.script.run(b))
        .map_err(|e| e.to_string())?;
    if let Some(name) = &s.result_variable {
        let mut vars = Map::new();
        vars.insert(name.clone(), result);
        run.set_variables(key, vars);
    }
    Ok(Outcome::Done)
}
