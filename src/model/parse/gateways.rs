//! Gateways: `exclusiveGateway`, `parallelGateway`, `inclusiveGateway`,
//! `complexGateway` (with its `activationCondition`) and `eventBasedGateway`
//! (also one that starts the process, `instantiate="true"`). What their outgoing flows must look like is checked
//! with the whole process (see `validate`).

use super::{Builder, Reader, flag};
use crate::model::definitions::*;
use crate::model::expr::Expr;
use crate::model::xml::{Element, Ns};

impl Reader<'_> {
    pub(super) fn exclusive_gateway(&self) -> Option<NodeKind> {
        Some(NodeKind::ExclusiveGateway)
    }

    pub(super) fn parallel_gateway(&self) -> Option<NodeKind> {
        Some(NodeKind::ParallelGateway)
    }

    pub(super) fn inclusive_gateway(&self) -> Option<NodeKind> {
        Some(NodeKind::InclusiveGateway)
    }

    /// A complex gateway and its `activationCondition` (whether it must have
    /// one depends on its incoming flows: checked in `validate`).
    pub(super) fn complex_gateway(&mut self, el: &Element) -> Option<NodeKind> {
        let activation = match el.child(Ns::Bpmn, "activationCondition") {
            None => None,
            Some(c) if c.text.trim().is_empty() => {
                self.push_for(
                    crate::model::diagnostic::Severity::Error,
                    c,
                    el,
                    "the activationCondition is empty".into(),
                );
                return None;
            }
            Some(c) => match Expr::compile(c.text.trim()) {
                Ok(e) => Some(e),
                Err(e) => {
                    self.push_for(
                        crate::model::diagnostic::Severity::Error,
                        c,
                        el,
                        format!("activationCondition: {e}"),
                    );
                    return None;
                }
            },
        };
        Some(NodeKind::ComplexGateway(Box::new(ComplexGateway {
            activation,
        })))
    }

    pub(super) fn event_gateway(&mut self, el: &Element) -> Option<NodeKind> {
        if flag(el.attr("instantiate"))
            && el.attr("eventGatewayType").map(str::trim) == Some("Parallel")
        {
            self.unsupported(
                el,
                "event-based gateways of type Parallel (every event needed to start the process) are not supported; use the Exclusive type".into(),
            );
            return None;
        }
        Some(NodeKind::EventGateway)
    }

    /// Once the flows are known: a complex gateway needs outgoing flows, and
    /// an `activationCondition` when it joins (it means nothing otherwise).
    pub(super) fn check_complex_gateways(&mut self, b: &Builder<'_>) {
        for (i, n) in b.nodes.iter().enumerate() {
            let NodeKind::ComplexGateway(cg) = &n.kind else {
                continue;
            };
            let el = b.node_els[i];
            if n.outgoing.is_empty() && !b.beside_refused.contains(&i) {
                self.error(el, "the gateway has no outgoing sequence flow".into());
            }
            match (&cg.activation, n.is_join()) {
                (None, true) => self.error(
                    el,
                    "a complex gateway that joins needs an activationCondition (say ${_activeTokens >= 2})".into(),
                ),
                (Some(_), false) => self.warning(
                    el,
                    "the activationCondition is ignored: with one incoming sequence flow the gateway only forks".into(),
                ),
                _ => {}
            }
        }
    }

    /// Once the process is checked: an event-based gateway with
    /// `instantiate="true"` stands where the process starts, so its targets
    /// become the process's start events (a message, signal or timer start
    /// each, reached through the gateway). The first event that occurs
    /// starts an instance; the gateway and the flow to that event are
    /// recorded as passed.
    pub(super) fn instantiating_gateways(&mut self, b: &mut Builder<'_>, flows: &[Flow]) {
        for i in 0..b.nodes.len() {
            let el = b.node_els[i];
            if !matches!(b.nodes[i].kind, NodeKind::EventGateway) || !flag(el.attr("instantiate")) {
                continue;
            }
            if b.nodes[i].scope.is_some() {
                self.error(
                    el,
                    "an event-based gateway that starts a process (instantiate=\"true\") belongs at the top level of the process, not in a subprocess".into(),
                );
                continue;
            }
            if !b.nodes[i].incoming.is_empty() {
                self.error(
                    el,
                    "an event-based gateway that starts a process (instantiate=\"true\") has no incoming sequence flows".into(),
                );
                continue;
            }
            for f in b.nodes[i].outgoing.clone() {
                let t = flows[f].target;
                let start = match &b.nodes[t].kind {
                    NodeKind::IntermediateCatch(Catch::Message { name }) => StartEvent {
                        message: Some(name.clone()),
                        ..StartEvent::default()
                    },
                    NodeKind::IntermediateCatch(Catch::Signal { name }) => StartEvent {
                        signal: Some(name.clone()),
                        ..StartEvent::default()
                    },
                    NodeKind::IntermediateCatch(Catch::Timer(timer)) => StartEvent {
                        timer: Some(timer.clone()),
                        ..StartEvent::default()
                    },
                    _ => {
                        self.unsupported(
                            b.node_els[t],
                            "after an event-based gateway that starts a process, only message, signal and timer intermediate catch events are supported".into(),
                        );
                        continue;
                    }
                };
                if b.nodes[t].incoming.len() != 1 {
                    self.error(
                        b.node_els[t],
                        "an event after an event-based gateway that starts a process is reached only through that gateway".into(),
                    );
                    continue;
                }
                b.nodes[t].kind = NodeKind::StartEvent(Box::new(start));
            }
        }
    }
}
