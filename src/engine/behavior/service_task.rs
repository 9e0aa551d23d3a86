//! Service task and send task.
//!
//! > "A Service Task is a Task that uses some sort of service, which could be a
//! > Web service or an automated application." A Send Task "is designed to send
//! > a Message to an external Participant"; like Camunda, this engine runs it
//! > exactly as a service task. (BPMN 2.0, 10.3.3)
//!
//! - `camunda:expression` runs inline; its value goes to `camunda:resultVariable`.
//! - `camunda:connector` and `camunda:type="external"` become jobs: the element
//!   waits until the job executor (or an external worker) reports the result.
//! - No implementation at all: the task passes straight through, as in the
//!   engine we replace (the deploy step warns about it).

use serde_json::{Map, Value, json};

use super::super::run::{Run, eval_params};
use super::super::state::JobKind;
use super::Outcome;
use crate::model::{NodeIdx, NodeKind, ServiceTask};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let NodeKind::ServiceTask(s) = &run.process.nodes[node].kind else {
        return Ok(Outcome::Done);
    };
    match s.as_ref() {
        ServiceTask::None => Ok(Outcome::Done),
        ServiceTask::Expression {
            expr,
            result_variable,
        } => {
            let value = expr
                .eval(&run.visible(key))
                .map_err(|e| format!("expression {} failed: {e}", expr.source()))?;
            if let Some(name) = result_variable {
                let mut vars = Map::new();
                vars.insert(name.clone(), value);
                run.set_variables(key, vars);
            }
            Ok(Outcome::Done)
        }
        ServiceTask::Connector(c) => {
            let inputs = eval_params(&c.inputs, &run.visible(key))
                .map_err(|e| format!("connector input: {e}"))?;
            let payload = json!({ "connector": c.id, "inputs": Value::Object(inputs) });
            run.wait_for_job(key, JobKind::Connector, None, payload);
            Ok(Outcome::Wait)
        }
        ServiceTask::External { topic } => {
            let topic = topic.clone();
            run.wait_for_job(key, JobKind::External { topic }, None, Value::Null);
            Ok(Outcome::Wait)
        }
    }
}

/// The connector call or external worker finished with these variables.
pub(crate) fn on_job_done(run: &mut Run<'_>, key: u64, variables: Map<String, Value>) {
    run.set_variables(key, variables);
    run.complete(key);
}

pub(crate) fn on_terminate(run: &mut Run<'_>, key: u64) {
    run.close_wait(key);
}
