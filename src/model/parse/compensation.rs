//! Compensation and transactions, checked once the process is read: each
//! compensation boundary event is linked to its handler (through an
//! `association`), and cancel end events and cancel boundary events must
//! belong to a `transaction`. A compensation event subprocess becomes the
//! handler of the subprocess it stands in. Also the `activityRef` of
//! compensation throw and end events.

use super::{Builder, Reader};
use crate::model::definitions::*;
use crate::model::xml::Element;

impl Reader<'_> {
    /// Links each activity with a compensation boundary event to its handler
    /// (the association from the boundary event), and checks transactions:
    /// cancel end events and cancel boundary events belong to them.
    pub(super) fn resolve_compensation(&mut self, b: &mut Builder<'_>) {
        for i in 0..b.nodes.len() {
            let el = b.node_els[i];
            let (attached, trigger) = match &b.nodes[i].kind {
                NodeKind::BoundaryEvent(be) => (be.attached_to, &be.trigger),
                NodeKind::CancelEnd => {
                    let in_tx = b.nodes[i].scope.is_some_and(
                        |s| matches!(&b.nodes[s].kind, NodeKind::SubProcess(sp) if sp.transaction),
                    );
                    if !in_tx {
                        self.error(el, "a cancel end event belongs inside a transaction".into());
                    } else if let Some(tx) = b.nodes[i].scope {
                        let has_boundary = b.nodes[tx].boundaries.iter().any(|x| {
                            matches!(&b.nodes[*x].kind, NodeKind::BoundaryEvent(be) if matches!(be.trigger, Catch::Cancel))
                        });
                        if !has_boundary {
                            self.error(
                                el,
                                "the transaction needs a cancel boundary event for this cancel end event to lead somewhere".into(),
                            );
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            match trigger {
                Catch::Cancel if !matches!(&b.nodes[attached].kind, NodeKind::SubProcess(sp) if sp.transaction) =>
                {
                    self.error(
                        el,
                        "a cancel boundary event belongs on a transaction".into(),
                    );
                }
                Catch::Compensation => {
                    let id = b.nodes[i].id.clone();
                    // Every association from the boundary event: a
                    // diagram may also associate annotations or other
                    // elements with it; the handler is the one marked
                    // isForCompensation.
                    let targets: Vec<String> = b
                        .associations
                        .iter()
                        .filter(|(s, _)| *s == id)
                        .map(|(_, t)| t.clone())
                        .collect();
                    let nodes: Vec<NodeIdx> = targets
                        .iter()
                        .filter_map(|t| b.nodes.iter().position(|n| n.id == *t))
                        .collect();
                    match nodes.iter().find(|h| b.nodes[**h].for_compensation) {
                        Some(h) => b.nodes[attached].compensation = Some(*h),
                        // The handler is an activity that was refused: that
                        // refusal says what is wrong.
                        None if targets.iter().any(|t| self.refused_activity(t)) => {}
                        None if !nodes.is_empty() => self.error(
                            el,
                            "the compensation handler needs isForCompensation=\"true\"".into(),
                        ),
                        None => self.error(
                            el,
                            "a compensation boundary event needs an association to its handler (an activity with isForCompensation=\"true\")".into(),
                        ),
                    }
                }
                _ => {}
            }
        }
        self.link_compensation_event_subprocesses(b);
    }

    /// Whether `id` is an activity of the file that was not read (it was
    /// refused, with its own diagnostic).
    fn refused_activity(&self, id: &str) -> bool {
        const ACTIVITIES: &[&str] = &[
            "task",
            "userTask",
            "serviceTask",
            "scriptTask",
            "sendTask",
            "receiveTask",
            "businessRuleTask",
            "manualTask",
            "callActivity",
            "subProcess",
            "transaction",
            "adHocSubProcess",
        ];
        self.elements
            .get(id)
            .is_some_and(|e| ACTIVITIES.contains(&e.tag.as_str()))
            && self.diags.iter().any(|d| {
                d.severity != crate::model::diagnostic::Severity::Warning
                    && d.element.as_deref() == Some(id)
            })
    }

    /// A compensation event subprocess is how its subprocess is compensated:
    /// it becomes that subprocess's handler (in place of a compensation
    /// boundary event, which it cannot have as well).
    fn link_compensation_event_subprocesses(&mut self, b: &mut Builder<'_>) {
        for i in 0..b.nodes.len() {
            let NodeKind::EventSubProcess(e) = &b.nodes[i].kind else {
                continue;
            };
            if !matches!(e.trigger, Catch::Compensation) {
                continue;
            }
            let el = b.node_els[i];
            match b.nodes[i].scope {
                Some(s) if matches!(b.nodes[s].kind, NodeKind::SubProcess(_)) => {
                    if b.nodes[s].compensation.is_some() {
                        self.error(
                            el,
                            format!(
                                "the subprocess \"{}\" is compensated already (by a compensation boundary event or another compensation event subprocess); it can have only one",
                                b.nodes[s].id
                            ),
                        );
                    } else {
                        b.nodes[s].compensation = Some(i);
                    }
                }
                _ => self.error(
                    el,
                    "a compensation event subprocess belongs inside an embedded subprocess (it runs when that subprocess is compensated)".into(),
                ),
            }
        }
    }
}

/// The `activityRef` of a compensation event definition (`None`: every
/// completed activity of the scope).
pub(super) fn compensated_activity(d: &Element) -> Option<String> {
    d.attr("activityRef")
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}
