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
//!
//! Data associations (`dataInputAssociation`, `dataOutputAssociation`) on
//! activities and events are read by one rule, decided on the files Camunda
//! Modeler, bpmn-js, SpiffWorkflow and jBPM write:
//!
//! - one that copies a variable or data element into a `dataInput` of the
//!   element, or a `dataOutput` of the element out to a variable or data
//!   element, runs as an input (or output) mapping `target = ${source}` of
//!   the activity; on an event it is refused by name;
//! - one with an `assignment` or a `transformation` is refused by name
//!   (Camunda ignores them; SpiffWorkflow and jBPM run them with their own
//!   expression languages);
//! - one between the element and a data object, data store or property that
//!   goes through no `dataInput` / `dataOutput` of the element — Modeler draws
//!   a data object's link to a task so, with a `__targetRef_placeholder`
//!   property as the target — is a reference for the reader: a data object
//!   is a process variable, which the element sees and sets anyway;
//! - one that feeds a multi-instance activity's `loopDataInputRef` or takes
//!   its `loopDataOutputRef` is what the loop reads and collects (see
//!   `loops`), not a mapping.

use super::Reader;
use crate::model::definitions::{Io, Param, ParamValue};
use crate::model::diagnostic::Severity;
use crate::model::expr::Template;
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
        self.resolve(Some((activity, way)), reference)
    }

    /// The variable a reference from outside an element stands for: not one
    /// of the element's own inputs or outputs.
    fn outside_variable(&self, reference: &str) -> Result<String, String> {
        self.resolve(None, reference)
    }

    fn resolve(&self, through: Option<(&Element, Way)>, reference: &str) -> Result<String, String> {
        let mut current = reference.trim().to_string();
        for _ in 0..MAX_HOPS {
            if let Some((activity, way)) = through
                && let Some(io) = activity.child(Ns::Bpmn, "ioSpecification")
            {
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
                Some(
                    "property" | "dataObject" | "dataInput" | "dataOutput" | "inputDataItem"
                    | "outputDataItem",
                ) => {
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

    /// Reads the data associations of a flow node (see the module's rule):
    /// the copies an activity runs are added to `io`. `takes_mappings`: the
    /// node runs input and output mappings. `false` when one is refused.
    pub(super) fn data_associations(
        &mut self,
        el: &Element,
        takes_mappings: bool,
        io: &mut Io,
    ) -> bool {
        let mut ok = true;
        let loop_ref = |name: &str| {
            el.child(Ns::Bpmn, "multiInstanceLoopCharacteristics")
                .and_then(|mi| mi.child(Ns::Bpmn, name))
                .map(|r| r.text.trim().to_string())
        };
        let (loop_in, loop_out) = (loop_ref("loopDataInputRef"), loop_ref("loopDataOutputRef"));
        for a in &el.children {
            let way = match (a.ns, a.name) {
                (Ns::Bpmn, "dataInputAssociation") => Way::In,
                (Ns::Bpmn, "dataOutputAssociation") => Way::Out,
                _ => continue,
            };
            if let Some(t) = a.children.iter().find(|c| {
                c.ns == Ns::Bpmn && (c.name == "assignment" || c.name == "transformation")
            }) {
                self.push_for(
                    Severity::Unsupported,
                    t,
                    el,
                    format!(
                        "{} with {} {}: only a copy from one variable or data element to another runs",
                        a.name,
                        if t.name == "assignment" { "an" } else { "a" },
                        t.name
                    ),
                );
                ok = false;
                continue;
            }
            let refs = |n: &str| -> Vec<String> {
                a.children_named(Ns::Bpmn, n)
                    .map(|r| r.text.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .collect()
            };
            let (sources, targets) = (refs("sourceRef"), refs("targetRef"));
            // The end on this element's side: a data input or output of it.
            let (mine, others, tag, loop_end) = match way {
                Way::In => (&targets, &sources, "dataInput", &loop_in),
                Way::Out => (&sources, &targets, "dataOutput", &loop_out),
            };
            let own = |id: &str| {
                el.children_named(Ns::Bpmn, "ioSpecification")
                    .flat_map(|io| io.children_named(Ns::Bpmn, tag))
                    .chain(el.children_named(Ns::Bpmn, tag))
                    .find(|d| d.id().map(str::trim) == Some(id))
            };
            let Some(data) = mine.iter().find_map(|m| own(m)) else {
                // A reference drawn for the reader (see the module's rule).
                continue;
            };
            if loop_end.as_deref() == data.id().map(str::trim) {
                continue;
            }
            if !takes_mappings {
                self.push_for(
                    Severity::Unsupported,
                    a,
                    el,
                    format!(
                        "{} into or out of a {tag} of a {} is not run; only activities copy data",
                        a.name, el.name
                    ),
                );
                ok = false;
                continue;
            }
            let Some(local) = own_variable(data) else {
                self.push_for(
                    Severity::Error,
                    data,
                    el,
                    format!(
                        "the {tag} \"{}\" has no name or id that can name a variable, so what {} copies is unknown",
                        data.id().unwrap_or_default(),
                        a.name
                    ),
                );
                ok = false;
                continue;
            };
            let other = match others.as_slice() {
                [] => continue,
                [one] => one,
                _ => {
                    self.push_for(
                        Severity::Unsupported,
                        a,
                        el,
                        format!("{} from several sources is not supported", a.name),
                    );
                    ok = false;
                    continue;
                }
            };
            let outside = match self.outside_variable(other) {
                Ok(v) => v,
                Err(e) => {
                    self.push_for(Severity::Error, a, el, format!("{}: {e}", a.name));
                    ok = false;
                    continue;
                }
            };
            if outside == local {
                continue;
            }
            let (name, from) = match way {
                Way::In => (local, outside),
                Way::Out => (outside, local),
            };
            match Template::parse(&format!("${{{from}}}")) {
                Ok(t) => {
                    let param = Param {
                        name,
                        value: ParamValue::Text(t),
                    };
                    match way {
                        Way::In => io.inputs.push(param),
                        Way::Out => io.outputs.push(param),
                    }
                }
                Err(e) => {
                    self.push_for(Severity::Error, a, el, format!("{}: {e}", a.name));
                    ok = false;
                }
            }
        }
        ok
    }
}
