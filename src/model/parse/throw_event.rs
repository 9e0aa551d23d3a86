//! Throwing events: end events (`endEvent`: none, terminate, error,
//! escalation, message, signal, compensation and cancel) and intermediate
//! throw events (`intermediateThrowEvent`: none, escalation, compensation,
//! link, message and signal).

use super::Reader;
use super::compensation::compensated_activity;
use super::tasks::has_implementation;
use crate::model::definitions::*;
use crate::model::diagnostic::Severity;
use crate::model::xml::Element;

impl Reader<'_> {
    pub(super) fn end_event(&mut self, el: &Element, defs: &[&Element]) -> Option<NodeKind> {
        match defs {
            [] => Some(NodeKind::EndEvent { terminate: false }),
            [d] if d.name == "terminateEventDefinition" => {
                Some(NodeKind::EndEvent { terminate: true })
            }
            [d] if d.name == "compensateEventDefinition" => Some(NodeKind::Compensate {
                activity: compensated_activity(d),
                end: true,
            }),
            [d] if d.name == "cancelEventDefinition" => Some(NodeKind::CancelEnd),
            [d] if d.name == "errorEventDefinition" => {
                self.error_throw(el, d).map(NodeKind::ErrorEnd)
            }
            [d] if is_throw_definition(d) => self.throw_event(el, d),
            [d] if d.name == "escalationEventDefinition" => self
                .escalation_code(el, d)
                .map(|code| NodeKind::Escalate { code }),
            [d, ..] => {
                self.push_for(
                    Severity::Unsupported,
                    d,
                    el,
                    format!("end events with a {} are not supported yet", d.name),
                );
                None
            }
        }
    }

    pub(super) fn intermediate_throw_event(
        &mut self,
        el: &Element,
        defs: &[&Element],
    ) -> Option<NodeKind> {
        match defs.first() {
            None => Some(NodeKind::IntermediateThrow),
            Some(d) if defs.len() == 1 && d.name == "escalationEventDefinition" => self
                .escalation_code(el, d)
                .map(|code| NodeKind::Escalate { code }),
            Some(d) if defs.len() == 1 && d.name == "compensateEventDefinition" => {
                Some(NodeKind::Compensate {
                    activity: compensated_activity(d),
                    end: false,
                })
            }
            Some(d) if defs.len() == 1 && d.name == "linkEventDefinition" => {
                self.link_name(el, d).map(|name| NodeKind::LinkThrow {
                    name,
                    target: usize::MAX,
                })
            }
            Some(d) if defs.len() == 1 && is_throw_definition(d) => self.throw_event(el, d),
            Some(d) => {
                self.push_for(
                    Severity::Unsupported,
                    d,
                    el,
                    format!(
                        "intermediate throw events with a {} are not supported yet",
                        d.name
                    ),
                );
                None
            }
        }
    }

    /// A message or signal throw event. One with a Camunda implementation
    /// (`camunda:expression`, `class`, `type`...) does that work instead, as a
    /// service task would.
    fn throw_event(&mut self, el: &Element, def: &Element) -> Option<NodeKind> {
        if has_implementation(el) && def.name == "messageEventDefinition" {
            return self.service_task(el);
        }
        let signal = def.name == "signalEventDefinition";
        let name = if signal {
            self.signal_name(el, def)?
        } else {
            self.message_name(el, def)?
        };
        Some(NodeKind::Throw(Box::new(ThrowEvent { signal, name })))
    }
}

pub(super) fn is_throw_definition(d: &Element) -> bool {
    d.name == "messageEventDefinition" || d.name == "signalEventDefinition"
}
