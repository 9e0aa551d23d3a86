//! Data in the BPMN standard's own terms: which variable a `loopDataInputRef`,
//! `loopDataOutputRef`, `inputDataItem` or `outputDataItem` stands for.
//!
//! A reference names a process variable, or the id of a data element whose
//! variable it is:
//!
//! - a `dataInput` of the activity's `ioSpecification`: the variable its
//!   `dataInputAssociation` copies in (`sourceRef`), else the input itself;
//! - a `dataOutput` of the activity's `ioSpecification`: the variable its
//!   `dataOutputAssociation` copies out to (`targetRef`), else the output itself;
//! - a `dataObjectReference`: its `dataObject`;
//! - a `property`, `dataObject`, `dataInput` or `dataOutput`: the variable of
//!   its `name` when that is a variable name (an EL identifier, as Camunda and
//!   Flowable name it), else of its `id` (as SpiffWorkflow and jBPM do).
//!
//! A text that is none of those ids is the variable name itself (Camunda and
//! Flowable write `<loopDataInputRef>assigneeList</loopDataInputRef>`).

use super::Reader;
use crate::model::xml::{Element, Ns};

/// How many references are followed before giving up (a cycle of associations).
const MAX_HOPS: usize = 8;

/// Whether `s` can name a variable in an expression: an EL identifier that is
/// not one of EL's reserved words.
pub(super) fn is_variable_name(s: &str) -> bool {
    const RESERVED: &[&str] = &[
        "and",
        "or",
        "not",
        "eq",
        "ne",
        "lt",
        "gt",
        "le",
        "ge",
        "true",
        "false",
        "null",
        "instanceof",
        "empty",
        "div",
        "mod",
    ];
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_alphabetic() || first == '_' || first == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        && !RESERVED.contains(&s)
}

/// The variable a data element (or data item) stands for: its name when that
/// is a variable name, else its id when that is one.
pub(super) fn own_variable(el: &Element) -> Option<String> {
    let name = el
        .attr("name")
        .map(str::trim)
        .filter(|n| is_variable_name(n));
    let id = el.id().map(str::trim).filter(|n| is_variable_name(n));
    name.or(id).map(str::to_string)
}

/// Which way a reference is read: into the activity, or out of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Way {
    In,
    Out,
}

impl Reader<'_> {
    /// The variable that `reference` (the text of a `loopDataInputRef` or
    /// `loopDataOutputRef` of `activity`) stands for, or why there is none.
    pub(super) fn data_variable(
        &self,
        activity: &Element,
        reference: &str,
        way: Way,
    ) -> Result<String, String> {
        let mut current = reference.trim().to_string();
        for _ in 0..MAX_HOPS {
            if let Some(io) = activity.child(Ns::Bpmn, "ioSpecification") {
                let (tag, assoc, from, to) = match way {
                    Way::In => (
                        "dataInput",
                        "dataInputAssociation",
                        "targetRef",
                        "sourceRef",
                    ),
                    Way::Out => (
                        "dataOutput",
                        "dataOutputAssociation",
                        "sourceRef",
                        "targetRef",
                    ),
                };
                if let Some(d) = io
                    .children_named(Ns::Bpmn, tag)
                    .find(|d| d.id().map(str::trim) == Some(current.as_str()))
                {
                    let linked = activity.children_named(Ns::Bpmn, assoc).find_map(|a| {
                        let refs = |n: &str| {
                            a.children_named(Ns::Bpmn, n)
                                .map(|r| r.text.trim().to_string())
                                .collect::<Vec<_>>()
                        };
                        refs(from)
                            .contains(&current)
                            .then(|| refs(to).into_iter().next())
                            .flatten()
                    });
                    match linked {
                        Some(next) => {
                            current = next;
                            continue;
                        }
                        None => {
                            return own_variable(d).ok_or_else(|| {
                                format!("the {tag} \"{current}\" has no name usable as a variable")
                            });
                        }
                    }
                }
            }
            if let Some(target) = self.data_object_refs.get(&current) {
                current = target.clone();
                continue;
            }
            return match self.elements.get(&current).map(|i| i.tag.as_str()) {
                Some("property" | "dataObject" | "dataInput" | "dataOutput") => {
                    let name = self
                        .elements
                        .get(&current)
                        .and_then(|i| i.name.as_deref())
                        .map(str::trim)
                        .filter(|n| is_variable_name(n));
                    Ok(name.map_or_else(|| current.clone(), str::to_string)).and_then(|v| {
                        if is_variable_name(&v) {
                            Ok(v)
                        } else {
                            Err(format!("\"{v}\" cannot name a variable"))
                        }
                    })
                }
                Some(other) => Err(format!(
                    "\"{current}\" is a {other}, not a variable or data element"
                )),
                None if is_variable_name(&current) => Ok(current),
                None => Err(format!(
                    "\"{current}\" is neither a variable name nor the id of a data element"
                )),
            };
        }
        Err(format!(
            "\"{reference}\" leads through more than {MAX_HOPS} data references"
        ))
    }
}
