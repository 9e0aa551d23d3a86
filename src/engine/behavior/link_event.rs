//! Link events.
//!
//! > "A Link is a mechanism for connecting two sections of a Process [...] a
//! > pair of Link Events [...] can be used as 'off-page connectors'."
//! > (BPMN 2.0, 10.4.5)
//!
//! A link throw event completes and the token goes on at the link catch event
//! with the same name in the same scope (checked at deployment); a link catch
//! event passes the token straight through.

use super::super::run::Run;
use super::Outcome;
use crate::model::{NodeIdx, NodeKind};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    if let NodeKind::LinkThrow { target, .. } = run.process.nodes[node].kind {
        let scope = run.scope_of(key);
        run.activate(target, scope);
    }
    Ok(Outcome::Done)
}
