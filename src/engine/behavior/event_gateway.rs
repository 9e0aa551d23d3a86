//! Event-based gateway.
//!
//! > "The Event-Based Gateway represents a branching point in the Process where
//! > the alternative paths that follow the Gateway are based on Events that
//! > occur [...] the first Event triggers the path." (BPMN 2.0, 10.5.6)
//!
//! When the token arrives, every target (message and timer catch events,
//! receive tasks) is activated at once and starts waiting. The targets form a
//! *race*: the first whose event arrives completes and takes its path, and the
//! others are cancelled in the same command (their subscriptions and timers
//! withdrawn). The gateway stays active until then, as in Camunda: it
//! completes (its end listeners run) when the winning event arrives, just
//! before the winner.

use super::super::event::Event;
use super::super::run::Run;
use super::Outcome;
use crate::model::NodeIdx;

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let scope = run.scope_of(key);
    let mut racers = Vec::new();
    for &f in &run.process.nodes[node].outgoing {
        let flow = &run.process.flows[f];
        run.emit(Event::FlowTaken {
            flow: flow.id.clone(),
            scope,
            join: None,
            default: false,
        });
        let racer = run.state.next_key;
        run.emit(Event::ElementActivated {
            key: racer,
            element: run.process.nodes[flow.target].id.clone(),
            scope,
            attached_to: None,
        });
        racers.push(racer);
    }
    run.emit(Event::RaceStarted {
        gateway: key,
        keys: racers.clone(),
    });
    for racer in racers {
        run.start(racer);
    }
    Ok(Outcome::Wait)
}
