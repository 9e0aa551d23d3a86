//! Gateways: `exclusiveGateway`, `parallelGateway`, `inclusiveGateway` and
//! `eventBasedGateway`. What their outgoing flows must look like is checked
//! with the whole process (see `validate`).

use super::{Reader, flag};
use crate::model::definitions::*;
use crate::model::xml::Element;

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
