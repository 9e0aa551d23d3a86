//! What event definitions refer to or hold, read alike for start, catch,
//! boundary, throw and end events and event subprocesses: timers
//! (`timerEventDefinition`), messages and signals (`messageRef`, `signalRef`),
//! conditions (`conditionalEventDefinition`), escalations (`escalationRef`)
//! and errors (`errorRef`).

use super::Reader;
use crate::model::definitions::*;
use crate::model::diagnostic::Severity;
use crate::model::expr::Template;
use crate::model::time;
use crate::model::xml::{Element, Ns};

impl Reader<'_> {
    /// A timer definition.
    pub(super) fn timer(&mut self, owner: &Element, def: &Element) -> Option<Timer> {
        let parts: Vec<&Element> = def.children.iter().filter(|c| c.ns == Ns::Bpmn).collect();
        let [part] = parts.as_slice() else {
            self.push_for(
                Severity::Error,
                def,
                owner,
                "a timer needs exactly one of timeDuration, timeDate or timeCycle".into(),
            );
            return None;
        };
        let text = part.text.trim();
        if text.is_empty() {
            self.push_for(
                Severity::Error,
                part,
                owner,
                format!("the {} is empty", part.name),
            );
            return None;
        }
        let template = match Template::parse(text) {
            Ok(t) => t,
            Err(e) => {
                self.push_for(Severity::Error, part, owner, e);
                return None;
            }
        };
        // Literal values are checked now; expressions when the timer starts.
        let check = |t: &Template, f: &dyn Fn(&str) -> Result<(), String>| match t {
            Template::Literal(s) => f(s),
            _ => Ok(()),
        };
        let result = match part.name {
            "timeDuration" => check(&template, &|s| time::parse_duration(s).map(|_| ()))
                .map(|_| Timer::Duration(template)),
            "timeDate" => check(&template, &|s| time::parse_datetime(s).map(|_| ()))
                .map(|_| Timer::Date(template)),
            "timeCycle" => check(&template, &|s| time::parse_cycle(s).map(|_| ()))
                .map(|_| Timer::Cycle(template)),
            other => Err(format!("<{other}> is not a timer definition")),
        };
        match result {
            Ok(t) => Some(t),
            Err(e) => {
                let sev = Severity::Error;
                self.push_for(sev, part, owner, e);
                None
            }
        }
    }

    /// The error an error event definition names (`errorRef`): what an end
    /// event throws, or what a boundary event or event subprocess catches.
    /// An `errorRef` that names no `<error>` of the file is itself the error
    /// code, as Camunda 7 reads it (`BpmnParse`: `error == null ? errorRef :
    /// error.getErrorCode()`), with a warning.
    pub(super) fn error_throw(&mut self, owner: &Element, def: &Element) -> Option<ErrorThrow> {
        match def
            .attr("errorRef")
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            None => Some(ErrorThrow::default()),
            Some(r) => match self.errors.get(r) {
                Some(e) => Some(e.clone()),
                None => {
                    self.push_for(
                        Severity::Warning,
                        def,
                        owner,
                        format!("errorRef \"{r}\" is not an error of this file; as in Camunda, \"{r}\" itself is the error code"),
                    );
                    Some(ErrorThrow {
                        code: Some(r.to_string()),
                        message: None,
                    })
                }
            },
        }
    }

    /// The code of the escalation an event definition references
    /// (`escalationRef`; none: a catch-all or a code-less escalation). Unlike
    /// an error, an escalation that is not in the file is refused, as Camunda
    /// 7 refuses it ("could not find escalation with id").
    pub(super) fn escalation_code(
        &mut self,
        owner: &Element,
        def: &Element,
    ) -> Option<Option<String>> {
        match def
            .attr("escalationRef")
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            None => Some(None),
            Some(r) => match self.escalations.get(r) {
                Some(code) => Some(code.clone()),
                None => {
                    self.push_for(
                        Severity::Error,
                        def,
                        owner,
                        format!("escalationRef \"{r}\" is not an escalation of this file"),
                    );
                    None
                }
            },
        }
    }

    /// A conditional event definition's `condition`.
    pub(super) fn conditional_catch(&mut self, owner: &Element, def: &Element) -> Option<Catch> {
        let Some(c) = def
            .child(Ns::Bpmn, "condition")
            .filter(|c| !c.text.trim().is_empty())
        else {
            self.push_for(
                Severity::Error,
                def,
                owner,
                "a conditional event needs a condition".into(),
            );
            return None;
        };
        self.formal_condition(c, owner, "condition")
            .map(|condition| Catch::Conditional { condition })
    }

    /// The signal name referenced by `signalRef` on `at`.
    pub(super) fn signal_name(&mut self, owner: &Element, at: &Element) -> Option<String> {
        let found = at
            .attr("signalRef")
            .map(str::trim)
            .map(|r| (r, self.signals.get(r).cloned()));
        self.named_ref(owner, at, "signal", found)
    }

    /// The message name referenced by `messageRef` on `at`.
    pub(super) fn message_name(&mut self, owner: &Element, at: &Element) -> Option<String> {
        let found = at
            .attr("messageRef")
            .map(str::trim)
            .map(|r| (r, self.messages.get(r).cloned()));
        self.named_ref(owner, at, "message", found)
    }

    /// The name behind a `messageRef`/`signalRef` (`found`: the reference and
    /// what it names), or the error that says what is wrong with it.
    fn named_ref(
        &mut self,
        owner: &Element,
        at: &Element,
        what: &str,
        found: Option<(&str, Option<Option<String>>)>,
    ) -> Option<String> {
        let message = match found {
            Some((_, Some(Some(name)))) => return Some(name),
            None | Some(("", _)) => format!(
                "a {what} must be chosen ({what}Ref) so the engine knows what to wait for or send"
            ),
            Some((r, Some(None))) => format!("{what} \"{r}\" has no name"),
            Some((r, None)) => format!("{what}Ref \"{r}\" is not a {what} of this file"),
        };
        self.push_for(Severity::Error, at, owner, message);
        None
    }
}
