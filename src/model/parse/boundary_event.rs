//! Boundary events (`boundaryEvent`: timer, message, signal, conditional,
//! error, escalation, compensation and cancel), and attaching them to their
//! activities once the process is read.

use super::{Builder, Reader};
use crate::model::definitions::*;
use crate::model::diagnostic::Severity;
use crate::model::xml::Element;

impl Reader<'_> {
    /// A boundary event, with the id of the activity it is attached to
    /// (resolved by `resolve_boundaries` once every node is read).
    pub(super) fn boundary_event(
        &mut self,
        el: &Element,
        defs: &[&Element],
    ) -> Option<(NodeKind, String)> {
        let interrupting = el.attr("cancelActivity").map(str::trim) != Some("false");
        let awaited = match defs {
            [d] => self.awaited(el, d),
            _ => None,
        };
        let trigger = match defs {
            _ if awaited.is_some() => awaited.flatten(),
            [d] if d.name == "compensateEventDefinition" => Some(Catch::Compensation),
            [d] if d.name == "cancelEventDefinition" => Some(Catch::Cancel),
            [d] if d.name == "escalationEventDefinition" => self.escalation_catch(el, d),
            [d] if d.name == "errorEventDefinition" => {
                if interrupting {
                    self.error_catch(el, d).map(Catch::Error)
                } else {
                    self.push_for(
                        Severity::Error,
                        el,
                        el,
                        "an error boundary event always interrupts its activity (cancelActivity=\"false\" is not allowed)".into(),
                    );
                    None
                }
            }
            [] => {
                self.error(el, "a boundary event needs an event definition".into());
                None
            }
            [d, ..] => {
                self.push_for(
                    Severity::Unsupported,
                    d,
                    el,
                    format!("boundary events with a {} are not supported yet", d.name),
                );
                None
            }
        };
        match (
            trigger,
            el.attr("attachedToRef")
                .map(str::trim)
                .filter(|r| !r.is_empty()),
        ) {
            (Some(trigger), Some(r)) => Some((
                NodeKind::BoundaryEvent(Box::new(Boundary {
                    attached_to: usize::MAX,
                    interrupting,
                    trigger,
                })),
                r.to_string(),
            )),
            (Some(_), None) => {
                self.error(el, "a boundary event needs attachedToRef".into());
                None
            }
            (None, _) => None,
        }
    }

    /// Attaches boundary events to their activities.
    pub(super) fn resolve_boundaries(&mut self, b: &mut Builder<'_>) {
        let refs = std::mem::take(&mut b.boundary_refs);
        for (idx, target, el) in refs {
            let found = b.nodes.iter().position(|n| n.id == target);
            match found {
                Some(a) if b.nodes[a].is_activity() && b.nodes[a].scope == b.nodes[idx].scope => {
                    if let NodeKind::BoundaryEvent(boundary) = &mut b.nodes[idx].kind {
                        boundary.attached_to = a;
                    }
                    b.nodes[a].boundaries.push(idx);
                }
                Some(_) => self.error(
                    el,
                    format!(
                        "attachedToRef \"{target}\" is not an activity beside this boundary event"
                    ),
                ),
                None if self.elements.contains_key(&target) => {}
                None => self.error(
                    el,
                    format!("attachedToRef \"{target}\" is not an element of this process"),
                ),
            }
        }
        // A boundary event whose activity was refused cannot stay.
        for i in 0..b.nodes.len() {
            if let NodeKind::BoundaryEvent(boundary) = &b.nodes[i].kind
                && boundary.attached_to == usize::MAX
            {
                b.nodes[i].kind = NodeKind::Task;
                b.nodes[i].incoming.clear();
                b.beside_refused.insert(i);
            }
        }
    }
}
