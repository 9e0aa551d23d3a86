//! Every BPMN element with an id, whether the engine runs it or not: what a
//! diagram draws and lookups by id need (`ElementInfo`), and the duplicate-id
//! check.

use super::loops::loop_kind;
use super::{Reader, event_definitions, flag};
use crate::model::definitions::*;
use crate::model::xml::{Element, Ns};

impl Reader<'_> {
    /// Records every BPMN element with an id (and reports duplicate ids).
    pub(super) fn collect_elements(&mut self, el: &Element, process: Option<&str>) {
        let mut process = process;
        if el.ns == Ns::Bpmn
            && let Some(id) = el.id()
        {
            if el.name == "process" {
                process = Some(id);
            }
            if el.name == "dataObjectReference"
                && let Some(target) = el.attr("dataObjectRef")
            {
                self.data_object_refs
                    .insert(id.to_string(), target.trim().to_string());
            }
            let info = ElementInfo {
                tag: el.name.to_string(),
                name: display_name(el),
                event_definitions: event_definitions(el).map(|d| d.name.to_string()).collect(),
                attached_to: el.attr("attachedToRef").map(str::to_string),
                interrupting: el
                    .attr("cancelActivity")
                    .or_else(|| el.attr("isInterrupting"))
                    .map(|v| v.trim() != "false")
                    .unwrap_or(true),
                triggered_by_event: el.attr("triggeredByEvent").map(str::trim) == Some("true"),
                for_compensation: flag(el.attr("isForCompensation")),
                process: process.map(str::to_string),
                default_flow: el.attr("default").map(|d| d.trim().to_string()),
                conditional: el.child(Ns::Bpmn, "conditionExpression").is_some(),
                source: el.attr("sourceRef").map(|r| r.trim().to_string()),
                loop_kind: loop_kind(el),
            };
            if self.elements.insert(id.to_string(), info).is_some() {
                self.error(
                    el,
                    format!("the id \"{id}\" is used by more than one element"),
                );
            }
        }
        for c in &el.children {
            if c.ns == Ns::Bpmn {
                self.collect_elements(c, process);
            }
        }
    }

    /// A group is labelled with the value of its category value, not a name.
    pub(super) fn name_groups(&mut self, el: &Element) {
        if el.is(Ns::Bpmn, "group")
            && let (Some(id), Some(r)) = (el.id(), el.attr("categoryValueRef"))
        {
            let value = self.elements.get(r.trim()).and_then(|c| c.name.clone());
            if let Some(group) = self.elements.get_mut(id)
                && group.name.is_none()
            {
                group.name = value;
            }
        }
        for c in &el.children {
            self.name_groups(c);
        }
    }
}

/// The text a diagram shows for an element: its name, a text annotation's text
/// or a category value's value.
fn display_name(el: &Element) -> Option<String> {
    let text = match el.name {
        "textAnnotation" => el.child(Ns::Bpmn, "text").map(|t| t.text.as_ref()),
        "categoryValue" => el.attr("value"),
        _ => None,
    };
    el.attr("name").or(text).map(str::to_string)
}
