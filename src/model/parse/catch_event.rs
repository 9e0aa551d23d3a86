//! Intermediate catch events (`intermediateCatchEvent`: timer, message,
//! signal, conditional and link), and what any catching event waits for —
//! shared with boundary events and event subprocesses, which also catch
//! errors and escalations.

use super::Reader;
use crate::model::definitions::*;
use crate::model::diagnostic::Severity;
use crate::model::xml::{Element, Ns};

impl Reader<'_> {
    pub(super) fn intermediate_catch_event(
        &mut self,
        el: &Element,
        defs: &[&Element],
    ) -> Option<NodeKind> {
        match defs {
            [d] if d.name == "linkEventDefinition" => self
                .link_name(el, d)
                .map(|name| NodeKind::LinkCatch { name }),
            [d] => self.catch(el, d).map(NodeKind::IntermediateCatch),
            [] => {
                self.error(
                    el,
                    "an intermediate catch event needs an event definition".into(),
                );
                None
            }
            [_, d, ..] => {
                self.push_for(
                    Severity::Unsupported,
                    d,
                    el,
                    "catch events with several event definitions are not supported".into(),
                );
                None
            }
        }
    }

    /// The triggers any catching event can wait for — a timer, a message, a
    /// signal, a condition — read from `def`;
    /// `None` when `def` is another kind of definition.
    pub(super) fn awaited(&mut self, owner: &Element, def: &Element) -> Option<Option<Catch>> {
        Some(match def.name {
            "timerEventDefinition" => self.timer(owner, def).map(Catch::Timer),
            "messageEventDefinition" => self
                .message_name(owner, def)
                .map(|name| Catch::Message { name }),
            "signalEventDefinition" => self
                .signal_name(owner, def)
                .map(|name| Catch::Signal { name }),
            "conditionalEventDefinition" => self.conditional_catch(owner, def),
            _ => return None,
        })
    }

    /// An escalation a boundary event or event subprocess catches, with its
    /// `camunda:escalationCodeVariable`.
    pub(super) fn escalation_catch(&mut self, owner: &Element, def: &Element) -> Option<Catch> {
        self.escalation_code(owner, def)
            .map(|code| Catch::Escalation {
                code,
                code_variable: def
                    .attr_ns(Ns::Camunda, "escalationCodeVariable")
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string),
            })
    }

    fn catch(&mut self, owner: &Element, def: &Element) -> Option<Catch> {
        if let Some(c) = self.awaited(owner, def) {
            return c;
        }
        match def.name {
            "errorEventDefinition" => {
                self.push_for(
                    Severity::Error,
                    def,
                    owner,
                    "an error is caught by a boundary event on an activity, not by an intermediate event".into(),
                );
                None
            }
            other => {
                self.push_for(
                    Severity::Unsupported,
                    def,
                    owner,
                    format!("catch events with a {other} are not supported yet"),
                );
                None
            }
        }
    }

    /// What an error boundary event catches: the referenced error's code, or
    /// every error when it references none.
    pub(super) fn error_catch(&mut self, owner: &Element, def: &Element) -> Option<ErrorCatch> {
        let code = self.error_throw(owner, def)?.code;
        let var = |name: &str| {
            def.attr_ns(Ns::Camunda, name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Some(ErrorCatch {
            code,
            code_variable: var("errorCodeVariable"),
            message_variable: var("errorMessageVariable"),
        })
    }
}
