//! Sequence flows (`sequenceFlow`): their ends resolved to nodes, their
//! conditions (`conditionExpression`) and `take` listeners, and the `default`
//! flows of gateways and activities.

use std::collections::HashMap;

use super::{Builder, Reader};
use crate::model::camunda;
use crate::model::definitions::*;
use crate::model::diagnostic::Severity;
use crate::model::expr::{Expr, Script, condition_language};
use crate::model::xml::{Element, Ns};

impl Reader<'_> {
    /// Resolves sequence flows to node indexes and fills in incoming/outgoing and defaults.
    pub(super) fn resolve_flows(&mut self, b: &mut Builder<'_>) -> Vec<Flow> {
        let index: HashMap<String, NodeIdx> = b
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let mut flows = Vec::new();
        let mut refused_flows = std::collections::HashSet::new();
        let raw = std::mem::take(&mut b.flows);
        for (el, scope) in raw {
            // The id is optional in BPMN's schema (jBPM leaves it out); a flow
            // without one is named after its position in the file.
            let id = match el.id() {
                Some(id) => id.to_string(),
                None => {
                    let (line, column) = self.lines.position(self.text, el.offset);
                    format!("sequenceFlow_{line}_{column}")
                }
            };
            let end = |attr: &str, me: &mut Self| -> Option<NodeIdx> {
                let Some(r) = el.attr(attr).map(str::trim).filter(|s| !s.is_empty()) else {
                    me.error(el, format!("the sequence flow has no {attr}"));
                    return None;
                };
                match index.get(r) {
                    Some(i) => Some(*i),
                    // Refers to an element already reported as unsupported or broken.
                    None if me.elements.contains_key(r) => None,
                    None => {
                        me.error(
                            el,
                            format!("{attr} \"{r}\" is not an element of this process"),
                        );
                        None
                    }
                }
            };
            let source = end("sourceRef", self);
            let target = end("targetRef", self);
            let refused = |attr: &str, me: &Self| {
                el.attr(attr)
                    .map(str::trim)
                    .is_some_and(|r| !index.contains_key(r) && me.elements.contains_key(r))
            };
            match (source, target) {
                (None, Some(t)) if refused("sourceRef", self) => {
                    b.beside_refused.insert(t);
                }
                (Some(s), None) if refused("targetRef", self) => {
                    b.beside_refused.insert(s);
                }
                _ => {}
            }
            let condition = self.condition(el);
            let listeners = camunda::listeners(self, el, &[("take", ListenerEvent::Take)]);
            let (Some(source), Some(target), Ok(condition), Some(listeners)) =
                (source, target, condition, listeners)
            else {
                // A flow refused for its condition or listeners is still
                // drawn: its ends do not miss a flow as well.
                b.beside_refused.extend(source.into_iter().chain(target));
                refused_flows.insert(id);
                continue;
            };
            if b.nodes[source].scope != scope || b.nodes[target].scope != scope {
                self.error(
                    el,
                    "a sequence flow cannot cross the boundary of a subprocess".into(),
                );
                continue;
            }
            let fi = flows.len();
            b.nodes[source].outgoing.push(fi);
            b.nodes[target].incoming.push(fi);
            flows.push(Flow {
                id,
                name: el.attr("name").map(str::to_string),
                source,
                target,
                condition,
                listeners,
            });
        }
        let flow_index: HashMap<&str, FlowIdx> = flows
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.as_str(), i))
            .collect();
        for (i, el) in b.node_els.iter().enumerate() {
            let Some(d) = el.attr("default").map(str::trim).filter(|s| !s.is_empty()) else {
                continue;
            };
            match flow_index.get(d) {
                Some(fi) if flows[*fi].source == i => b.nodes[i].default_flow = Some(*fi),
                // Already reported with the reason it was refused.
                None if refused_flows.contains(d) => {}
                _ => self.error(
                    el,
                    format!("the default flow \"{d}\" is not one of its outgoing sequence flows"),
                ),
            }
        }
        flows
    }

    /// A condition of an event or a loop (`c`, in `owner`) in its
    /// `language`: a language that cannot run here is unsupported, a text
    /// that does not compile an error (prefixed with `what`).
    pub(super) fn formal_condition(
        &mut self,
        c: &Element,
        owner: &Element,
        what: &str,
    ) -> Option<Expr> {
        let language = match condition_language(c.attr("language")) {
            Ok(l) => l,
            Err(e) => {
                self.push_for(Severity::Unsupported, c, owner, format!("{what}: {e}"));
                return None;
            }
        };
        let compiled = match language {
            Some(language) => Script::compile_as(language, &c.text).map(Expr::script),
            None => Expr::compile(c.text.trim()),
        };
        match compiled {
            Ok(e) => Some(e),
            Err(e) => {
                self.push_for(Severity::Error, c, owner, format!("{what}: {e}"));
                None
            }
        }
    }

    fn condition(&mut self, flow: &Element) -> Result<Option<Expr>, ()> {
        let Some(c) = flow.child(Ns::Bpmn, "conditionExpression") else {
            return Ok(None);
        };
        let script = match condition_language(c.attr("language")) {
            Ok(l) => l,
            Err(e) => {
                self.push_for(Severity::Unsupported, c, flow, e);
                return Err(());
            }
        };
        if c.attr_ns(Ns::Camunda, "resource").is_some() {
            self.push_for(
                Severity::Unsupported,
                c,
                flow,
                "conditions loaded from a camunda:resource are not supported".into(),
            );
            return Err(());
        }
        let text = c.text.trim();
        if text.is_empty() {
            self.push_for(Severity::Error, c, flow, "the condition is empty".into());
            return Err(());
        }
        let compiled = match script {
            Some(language) => Script::compile_as(language, &c.text).map(Expr::script),
            None => Expr::compile(text),
        };
        match compiled {
            Ok(e) => Ok(Some(e)),
            Err(e) => {
                self.push_for(Severity::Error, c, flow, e);
                Err(())
            }
        }
    }
}
