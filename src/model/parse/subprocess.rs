//! Subprocesses: embedded subprocesses (`subProcess`), transactions
//! (`transaction`), ad-hoc subprocesses (`adHocSubProcess`, with their
//! `ordering`, `completionCondition` and `cancelRemainingInstances`) and event
//! subprocesses (`subProcess triggeredByEvent`), and
//! how each starts — its start event, the trigger of an event subprocess's
//! start event, or its elements without incoming flows. Their children are
//! read by the same walk as a process's (`container`).

use super::{Builder, Reader, event_definitions};
use crate::model::definitions::*;
use crate::model::diagnostic::Severity;
use crate::model::expr::Expr;
use crate::model::xml::{Element, Ns};

impl Reader<'_> {
    pub(super) fn sub_process(&mut self, el: &Element) -> Option<NodeKind> {
        if el.attr("triggeredByEvent").map(str::trim) == Some("true") {
            self.event_subprocess(el)
                .map(|e| NodeKind::EventSubProcess(Box::new(e)))
        } else {
            // The start node is filled in once the children are read.
            Some(NodeKind::SubProcess(SubProcess {
                start: usize::MAX,
                implicit: Vec::new(),
                transaction: false,
                ad_hoc: None,
            }))
        }
    }

    pub(super) fn transaction(&self) -> Option<NodeKind> {
        Some(NodeKind::SubProcess(SubProcess {
            start: usize::MAX,
            implicit: Vec::new(),
            transaction: true,
            ad_hoc: None,
        }))
    }

    /// An ad-hoc subprocess: its ordering and completion.
    pub(super) fn ad_hoc_sub_process(&mut self, el: &Element) -> Option<NodeKind> {
        let sequential = match el.attr("ordering").map(str::trim) {
            None | Some("Parallel") => false,
            Some("Sequential") => true,
            Some(other) => {
                self.error(
                    el,
                    format!("ordering \"{other}\" is neither Parallel nor Sequential"),
                );
                return None;
            }
        };
        if let Some(z) = crate::model::zeebe::extension(el, "adHoc")
            .filter(|z| z.attr("activeElementsCollection").is_some())
        {
            // Which elements start would silently differ: refuse it.
            self.push_for(
                Severity::Unsupported,
                z,
                el,
                "zeebe:adHoc activeElementsCollection is not supported: every element without incoming flows starts".into(),
            );
            return None;
        }
        let cancel_remaining = el.attr("cancelRemainingInstances").map(str::trim) != Some("false");
        let completion = match el
            .child(Ns::Bpmn, "completionCondition")
            .map(|c| (c, c.text.trim()))
            .filter(|(_, t)| !t.is_empty())
        {
            None => None,
            Some((c, text)) => match Expr::compile(text) {
                Ok(e) => Some(e),
                Err(e) => {
                    self.push_for(Severity::Error, c, el, format!("completionCondition: {e}"));
                    return None;
                }
            },
        };
        Some(NodeKind::SubProcess(SubProcess {
            start: usize::MAX,
            implicit: Vec::new(),
            transaction: false,
            ad_hoc: Some(Box::new(AdHoc {
                sequential,
                completion,
                cancel_remaining,
            })),
        }))
    }

    /// Records the start event of the subprocess or event subprocess `idx`
    /// (read from `el`) once its children are read.
    pub(super) fn subprocess_start(&mut self, b: &mut Builder<'_>, el: &Element, idx: NodeIdx) {
        let start = b
            .nodes
            .iter()
            .position(|n| n.scope == Some(idx) && matches!(n.kind, NodeKind::StartEvent(_)));
        match (&mut b.nodes[idx].kind, start) {
            (NodeKind::SubProcess(sp), Some(_)) if sp.ad_hoc.is_some() => self.error(
                el,
                "an ad-hoc subprocess has no start event: its elements without incoming sequence flows are enabled".into(),
            ),
            (NodeKind::SubProcess(sp), Some(s)) => sp.start = s,
            (NodeKind::EventSubProcess(e), Some(s)) => e.start = s,
            // A start event that is there was refused, and said why already.
            (NodeKind::EventSubProcess(_), None) if el.child(Ns::Bpmn, "startEvent").is_none() => {
                self.error(
                    el,
                    "an event subprocess needs a start event with an event definition".into(),
                )
            }
            // No start event: its elements without incoming flows start
            // (resolved once the flows are known).
            _ => {}
        }
    }

    /// An event subprocess: the trigger of its (single) start event.
    fn event_subprocess(&mut self, el: &Element) -> Option<EventSubProcess> {
        let starts: Vec<&Element> = el.children_named(Ns::Bpmn, "startEvent").collect();
        let [start] = starts.as_slice() else {
            self.error(
                el,
                format!(
                    "an event subprocess needs exactly one start event (it has {})",
                    starts.len()
                ),
            );
            return None;
        };

        let interrupting = start.attr("isInterrupting").map(str::trim) != Some("false");
        let defs: Vec<&Element> = event_definitions(start).collect();
        let awaited = match defs.as_slice() {
            [d] => self.awaited(start, d),
            _ => None,
        };
        let trigger = match defs.as_slice() {
            _ if awaited.is_some() => awaited.flatten(),
            [d] => match d.name {
                "escalationEventDefinition" => self.escalation_catch(start, d),
                // Run when the enclosing subprocess is compensated (linked in `compensation`).
                "compensateEventDefinition" => Some(Catch::Compensation),
                "errorEventDefinition" if interrupting => {
                    self.error_catch(start, d).map(Catch::Error)
                }
                "errorEventDefinition" => {
                    self.error(
                        start,
                        "an error start event always interrupts (isInterrupting=\"false\" is not allowed)"
                            .into(),
                    );
                    None
                }
                other => {
                    self.push_for(
                        Severity::Unsupported,
                        d,
                        start,
                        format!("event subprocesses started by a {other} are not supported"),
                    );
                    None
                }
            },
            [] => {
                self.error(
                    start,
                    "the start event of an event subprocess needs an event definition".into(),
                );
                None
            }
            [_, d, ..] => {
                self.push_for(
                    Severity::Unsupported,
                    d,
                    start,
                    "start events with several event definitions are not supported".into(),
                );
                None
            }
        }?;
        Some(EventSubProcess {
            start: usize::MAX,
            trigger,
            interrupting,
        })
    }
}

/// Fills in what starts each subprocess without a start event: its elements
/// without incoming sequence flows (known once the flows are resolved).
pub(super) fn implicit_subprocess_starts(nodes: &mut [Node]) {
    for i in 0..nodes.len() {
        if matches!(&nodes[i].kind, NodeKind::SubProcess(sp) if sp.start == usize::MAX) {
            let implicit = implicit_starts(nodes, Some(i));
            if let NodeKind::SubProcess(sp) = &mut nodes[i].kind {
                sp.implicit = implicit;
            }
        }
    }
}
