//! Gateways: `exclusiveGateway`, `parallelGateway`, `inclusiveGateway`,
//! `complexGateway` (with its `activationCondition`) and `eventBasedGateway`. What their outgoing flows must look like is checked
//! with the whole process (see `validate`).

use super::{Reader, flag};
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
        if flag(el.attr("instantiate")) {
            self.unsupported(
                el,
                "event-based gateways that start a process (instantiate=\"true\") are not supported yet".into(),
            );
            None
        } else {
            Some(NodeKind::EventGateway)
        }
    }
}
