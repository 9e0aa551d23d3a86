//! Business rule task with `camunda:decisionRef`: evaluates a deployed decision.
//!
//! > "A Business Rule Task provides a mechanism for the Process to provide
//! > input to a Business Rules Engine and to get the output of calculations
//! > that the Business Rules Engine might provide." (BPMN 2.0, 10.3.3)
//!
//! The decision lives in the database (a deployed `.dmn` file), so the task
//! waits for a `decide` job: the job executor finds the decision version the
//! binding asks for, evaluates it with the variables the task sees, and
//! completes the task with the result mapped (`camunda:mapDecisionResult`)
//! into `camunda:resultVariable`. A decision that is missing or cannot be
//! evaluated (no UNIQUE match, a FEEL error) is an incident at once: trying
//! again would give the same answer until someone changes something.

use serde_json::json;

use super::super::run::Run;
use super::super::state::JobKind;
use super::Outcome;
use super::call_activity::{binding, name_of};
use crate::model::{NodeIdx, NodeKind};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let NodeKind::BusinessRule(rule) = &run.process.nodes[node].kind else {
        return Ok(Outcome::Done);
    };
    let (decision, (binding, version, version_tag)) = run
        .evaluate(key, |b| {
            Ok((
                name_of(b, "camunda:decisionRef", &rule.decision)?,
                binding(b, "decisionRef", &rule.binding)?,
            ))
        })
        .map_err(|e| e.0)?;
    let payload = json!({
        "decision": decision,
        "binding": binding,
        "version": version,
        "version_tag": version_tag,
        "variables": run.state.visible_variables(key),
        "result_variable": rule.result_variable,
        "map": rule.map,
    });
    run.wait_for_job_once(key, JobKind::Decide, payload);
    Ok(Outcome::Wait)
}
