//! Lanes (`laneSet`, `lane`, `childLaneSet`, `flowNodeRef`): the lane each
//! node stands in.

use std::collections::HashMap;

use super::Reader;
use crate::model::definitions::*;
use crate::model::xml::{Element, Ns};

impl Reader<'_> {
    /// Reads the lane set and records each node's lane (the innermost one).
    pub(super) fn lanes(&mut self, process: &Element, nodes: &mut [Node]) -> Vec<Lane> {
        fn walk(set: &Element, depth: usize, out: &mut Vec<(Lane, usize)>) {
            for lane in set.children_named(Ns::Bpmn, "lane") {
                let refs = lane
                    .children_named(Ns::Bpmn, "flowNodeRef")
                    .map(|r| r.text.trim().to_string())
                    .collect();
                out.push((
                    Lane {
                        id: lane.id().unwrap_or_default().to_string(),
                        name: lane.attr("name").map(str::to_string),
                        nodes: refs,
                    },
                    depth,
                ));
                for child in lane.children_named(Ns::Bpmn, "childLaneSet") {
                    walk(child, depth + 1, out);
                }
            }
        }
        let mut found = Vec::new();
        for set in process.children_named(Ns::Bpmn, "laneSet") {
            walk(set, 0, &mut found);
        }
        let index: HashMap<String, NodeIdx> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let mut depth_of: Vec<Option<usize>> = vec![None; nodes.len()];
        for (lane, depth) in &found {
            for r in &lane.nodes {
                if let Some(&i) = index.get(r)
                    && depth_of[i].is_none_or(|d| *depth >= d)
                {
                    depth_of[i] = Some(*depth);
                    nodes[i].lane = lane.name.clone().or_else(|| Some(lane.id.clone()));
                }
            }
        }
        // Nodes inside subprocesses stand in their subprocess's lane. Parents come
        // before their children, so one pass in order is enough.
        for i in 0..nodes.len() {
            if nodes[i].lane.is_none()
                && let Some(s) = nodes[i].scope
            {
                nodes[i].lane = nodes[s].lane.clone();
            }
        }
        found.into_iter().map(|(l, _)| l).collect()
    }
}
