//! Checks that need a whole process: start events, endless loops, flows into
//! and out of events, subprocesses and gateways, conditions that are ignored
//! and elements that are never reached. A flow that is missing because the
//! element at its other end was refused is not reported again.

use super::{Builder, Reader};
use crate::model::definitions::*;
use crate::model::xml::{Element, Ns};

impl Reader<'_> {
    pub(super) fn validate(&mut self, process: &Element, b: &Builder<'_>, flows: &[Flow]) {
        for ids in crate::model::loops::endless_loops(&b.nodes, flows) {
            if let Some(i) = b.nodes.iter().position(|n| n.id == ids[0]) {
                self.error(
                    b.node_els[i],
                    format!(
                        "the elements {} form a loop that never waits and never ends (no way out, or a parallel fork in it); put a user task, a timer or camunda:asyncBefore in it",
                        ids.join(", ")
                    ),
                );
            }
        }
        let top_starts: Vec<NodeIdx> = b
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.scope.is_none() && matches!(&n.kind, NodeKind::StartEvent(s) if s.is_none())
            })
            .map(|(i, _)| i)
            .collect();
        // Timer, message and signal start events.
        let timer_starts = b
            .nodes
            .iter()
            .filter(|n| {
                n.scope.is_none() && matches!(&n.kind, NodeKind::StartEvent(s) if !s.is_none())
            })
            .count();
        let has_other_start = self.diags.iter().any(|d| {
            d.kind.as_deref() == Some("startEvent")
                && d.element
                    .as_ref()
                    .and_then(|e| self.elements.get(e))
                    .and_then(|i| i.process.as_deref())
                    == process.id()
        });
        let top_implicit = implicit_starts(&b.nodes, None);
        // Elements that start because their scope has no start event.
        let mut implicit: std::collections::HashSet<NodeIdx> =
            top_implicit.iter().copied().collect();
        for n in &b.nodes {
            if let NodeKind::SubProcess(sp) = &n.kind {
                implicit.extend(sp.implicit.iter().copied());
            }
        }
        match top_starts.len() {
            0 if !has_other_start && timer_starts == 0 && top_implicit.is_empty() => self.error(
                process,
                "the process has no start event, and no element without incoming sequence flows to start at".into(),
            ),
            0 | 1 => {}
            n => self.error(
                process,
                format!("the process has {n} none start events; it needs exactly one"),
            ),
        }
        for (i, n) in b.nodes.iter().enumerate() {
            let el = b.node_els[i];
            if let NodeKind::SubProcess(sp) = &n.kind
                && sp.start == usize::MAX
                && sp.implicit.is_empty()
            {
                self.error(
                    el,
                    "the subprocess has no start event, and no element without incoming sequence flows to start at".into(),
                );
            }
            if let NodeKind::SubProcess(_) = n.kind {
                let starts = b
                    .nodes
                    .iter()
                    .filter(|c| c.scope == Some(i) && matches!(c.kind, NodeKind::StartEvent(_)))
                    .count();
                if starts > 1 {
                    self.error(
                        el,
                        format!("the subprocess has {starts} start events; it needs exactly one"),
                    );
                }
            }
            match &n.kind {
                NodeKind::EventSubProcess(_)
                    if !n.incoming.is_empty() || !n.outgoing.is_empty() =>
                {
                    self.error(
                        el,
                        "no sequence flow may enter or leave an event subprocess".into(),
                    );
                }
                NodeKind::StartEvent(_) if !n.incoming.is_empty() => {
                    self.error(
                        el,
                        "a start event cannot have incoming sequence flows".into(),
                    );
                }
                NodeKind::EndEvent { .. } | NodeKind::ErrorEnd(_) if !n.outgoing.is_empty() => {
                    self.error(
                        el,
                        "an end event cannot have outgoing sequence flows".into(),
                    );
                }
                NodeKind::ExclusiveGateway | NodeKind::InclusiveGateway
                    if n.outgoing.is_empty() && !b.beside_refused.contains(&i) =>
                {
                    self.error(el, "the gateway has no outgoing sequence flow".into());
                }
                NodeKind::EventGateway => {
                    // Drawn flows (`<outgoing>`), including those to elements
                    // refused already, which are not reported twice.
                    let drawn = el.children_named(Ns::Bpmn, "outgoing").count();
                    if n.outgoing.len().max(drawn) < 2 {
                        self.error(
                            el,
                            "an event-based gateway needs at least two outgoing sequence flows"
                                .into(),
                        );
                    }
                    for &f in &n.outgoing {
                        let target = &b.nodes[flows[f].target];
                        let ok = matches!(
                            target.kind,
                            NodeKind::IntermediateCatch(_) | NodeKind::ReceiveTask(_)
                        );
                        if !ok {
                            self.error(
                                el,
                                format!(
                                    "sequence flow \"{}\" leads to {} \"{}\"; an event-based gateway leads to message or timer catch events and receive tasks only",
                                    flows[f].id, target.tag, target.id
                                ),
                            );
                        }
                        if flows[f].condition.is_some() {
                            self.error(
                                el,
                                format!(
                                    "sequence flow \"{}\" has a condition; the flows of an event-based gateway cannot",
                                    flows[f].id
                                ),
                            );
                        }
                    }
                }
                NodeKind::ExclusiveGateway if n.outgoing.len() > 1 => {
                    for &f in &n.outgoing {
                        if flows[f].condition.is_none() && Some(f) != n.default_flow {
                            self.warning(
                                el,
                                format!("sequence flow \"{}\" has no condition and is not the default: it is always taken when reached", flows[f].id),
                            );
                        }
                    }
                }
                NodeKind::ParallelGateway => {
                    for &f in &n.outgoing {
                        if flows[f].condition.is_some() {
                            self.warning(
                                el,
                                format!("the condition on sequence flow \"{}\" is ignored: a parallel gateway takes every outgoing flow", flows[f].id),
                            );
                        }
                    }
                }
                _ => {}
            }
            if let Some(d) = n.default_flow
                && flows[d].condition.is_some()
            {
                self.warning(
                    el,
                    format!(
                        "the condition on default flow \"{}\" is ignored",
                        flows[d].id
                    ),
                );
            }
            if let NodeKind::BoundaryEvent(_) = n.kind
                && !n.incoming.is_empty()
            {
                self.error(
                    el,
                    "a boundary event cannot have incoming sequence flows".into(),
                );
            }
            if n.incoming.is_empty()
                && !n.for_compensation
                && !b.beside_refused.contains(&i)
                && !implicit.contains(&i)
                && !matches!(
                    n.kind,
                    NodeKind::StartEvent(_)
                        | NodeKind::BoundaryEvent(_)
                        | NodeKind::LinkCatch { .. }
                        | NodeKind::EventSubProcess(_)
                )
            {
                self.warning(
                    el,
                    "has no incoming sequence flow, so it is never reached".into(),
                );
            }
        }
    }
}
