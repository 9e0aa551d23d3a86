//! Link events (`linkEventDefinition` on intermediate throw and catch events):
//! their names, and each throw event connected to the catch event of the same
//! name once the process is read.

use super::{Builder, Reader};
use crate::model::definitions::*;
use crate::model::diagnostic::Severity;
use crate::model::xml::Element;

impl Reader<'_> {
    /// The `name` of a link event definition.
    pub(super) fn link_name(&mut self, owner: &Element, def: &Element) -> Option<String> {
        match def.attr("name").map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => Some(n.to_string()),
            None => {
                self.push_for(
                    Severity::Error,
                    def,
                    owner,
                    "a link event needs a name: throw and catch events with the same name are linked"
                        .into(),
                );
                None
            }
        }
    }

    /// Connects each link throw event to the link catch event of the same
    /// name in its scope.
    pub(super) fn resolve_links(&mut self, b: &mut Builder<'_>) {
        for i in 0..b.nodes.len() {
            let NodeKind::LinkThrow { name, .. } = &b.nodes[i].kind else {
                continue;
            };
            let name = name.clone();
            let scope = b.nodes[i].scope;
            let catches: Vec<NodeIdx> = b
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| {
                    n.scope == scope
                        && matches!(&n.kind, NodeKind::LinkCatch { name: c } if *c == name)
                })
                .map(|(j, _)| j)
                .collect();
            match catches.as_slice() {
                [target] => {
                    if let NodeKind::LinkThrow { target: t, .. } = &mut b.nodes[i].kind {
                        *t = *target;
                    }
                }
                [] => {
                    let el = b.node_els[i];
                    self.error(
                        el,
                        format!("no link catch event named \"{name}\" in the same scope"),
                    );
                }
                _ => {
                    let el = b.node_els[i];
                    self.error(
                        el,
                        format!("several link catch events are named \"{name}\" in the same scope"),
                    );
                }
            }
        }
    }
}
