//! Start events (`startEvent`): none, timer, message, signal and conditional
//! starts of a process, none starts of a subprocess, and the start event of an event
//! subprocess, whose trigger is read with its subprocess (see `subprocess`).

use super::Reader;
use crate::model::camunda;
use crate::model::definitions::*;
use crate::model::diagnostic::Severity;
use crate::model::xml::Element;

impl Reader<'_> {
    /// A start event; `scope` is the kind of the subprocess it stands in
    /// (`None`: the process itself, where only it may have a trigger).
    pub(super) fn start_event(
        &mut self,
        el: &Element,
        defs: &[&Element],
        scope: Option<&NodeKind>,
    ) -> Option<NodeKind> {
        let mut start = StartEvent {
            timer: None,
            message: None,
            signal: None,
            condition: None,
            form: Vec::new(),
            form_link: None,
            initiator: None,
        };
        let in_event_sub = matches!(scope, Some(NodeKind::EventSubProcess(_)));
        let read = match defs {
            // Its trigger belongs to the event subprocess (read there).
            _ if in_event_sub => Some(()),
            [] => Some(()),
            [d] if d.name == "timerEventDefinition" && scope.is_none() => {
                self.timer(el, d).map(|t| start.timer = Some(t))
            }
            [d] if d.name == "messageEventDefinition" && scope.is_none() => {
                self.message_name(el, d).map(|m| start.message = Some(m))
            }
            [d] if d.name == "signalEventDefinition" && scope.is_none() => {
                self.signal_name(el, d).map(|s| start.signal = Some(s))
            }
            [d] if d.name == "conditionalEventDefinition" && scope.is_none() => {
                match self.conditional_catch(el, d) {
                    Some(Catch::Conditional { condition }) => {
                        start.condition = Some(condition);
                        Some(())
                    }
                    _ => None,
                }
            }
            [first, _, ..] => {
                let names: Vec<&str> = defs.iter().map(|d| d.name).collect();
                self.push_for(
                    Severity::Unsupported,
                    first,
                    el,
                    format!(
                        "the start event has {} event definitions ({}): a multiple start event (any one of them starts the process) is not supported; draw one start event per trigger",
                        defs.len(),
                        names.join(", ")
                    ),
                );
                None
            }
            [d] => {
                self.push_for(
                    Severity::Unsupported,
                    d,
                    el,
                    format!("start events with a {} are not supported yet", d.name),
                );
                None
            }
        };
        let read = read.and_then(|()| {
            if scope.is_some() || !start.is_none() {
                return Some(());
            }
            let link = self.form_link(el).ok()?;
            start.form_link = link;
            Some(())
        });
        read.map(|()| {
            start.form = camunda::form(self, el);
            start.initiator = camunda::vendor_value(el, "initiator").map(str::to_string);
            NodeKind::StartEvent(Box::new(start))
        })
    }
}
