//! The deploy-time check for loops that would spin forever.
//!
//! A command runs until every token waits. A cycle of elements that never
//! wait (gateways, expression and script tasks, pass-through events) keeps a
//! token going round within one command: when nothing in the cycle leads out
//! of it, or a parallel gateway in it forks a new token each time round, it
//! can never stop, and the diagram is refused. A cycle with a way out (an
//! exclusive gateway whose condition eventually leaves) is a legitimate
//! counting loop and runs; the runtime's step limit turns a runaway one into
//! an incident.

use super::definitions::{Flow, Node, NodeIdx, NodeKind, ServiceTask};

/// Whether a token passes through the node within the same command.
fn straight_through(n: &Node) -> bool {
    if n.async_before || n.async_after || n.loops() {
        return false;
    }
    match &n.kind {
        NodeKind::Task
        | NodeKind::ManualTask
        | NodeKind::IntermediateThrow
        | NodeKind::ExclusiveGateway
        | NodeKind::InclusiveGateway
        | NodeKind::ParallelGateway
        | NodeKind::ComplexGateway(_)
        | NodeKind::LinkThrow { .. }
        | NodeKind::LinkCatch { .. }
        | NodeKind::Escalate { .. }
        | NodeKind::ScriptTask(_) => true,
        NodeKind::ServiceTask(s) => {
            matches!(**s, ServiceTask::None | ServiceTask::Expression { .. })
        }
        _ => false,
    }
}

/// Where a token goes from each node: its flows' targets, and a link throw's catch.
fn successors(nodes: &[Node], flows: &[Flow]) -> Vec<Vec<NodeIdx>> {
    let mut next = vec![Vec::new(); nodes.len()];
    for f in flows {
        if f.source < nodes.len() && f.target < nodes.len() {
            next[f.source].push(f.target);
        }
    }
    for (i, n) in nodes.iter().enumerate() {
        if let NodeKind::LinkThrow { target, .. } = n.kind
            && target < nodes.len()
        {
            next[i].push(target);
        }
    }
    next
}

/// The endless loops of a process: each as the ids of its elements.
pub fn endless_loops(nodes: &[Node], flows: &[Flow]) -> Vec<Vec<String>> {
    let next = successors(nodes, flows);
    let inside: Vec<bool> = nodes.iter().map(straight_through).collect();
    let components = strongly_connected(&next, &inside);
    let mut out = Vec::new();
    for comp in components {
        let mut member = vec![false; nodes.len()];
        for &c in &comp {
            member[c] = true;
        }
        let cyclic = comp.len() > 1 || next[comp[0]].contains(&comp[0]);
        if !cyclic {
            continue;
        }
        let leaves = comp.iter().any(|&c| next[c].iter().any(|&t| !member[t]));
        let forks = comp
            .iter()
            .any(|&c| matches!(nodes[c].kind, NodeKind::ParallelGateway) && next[c].len() > 1);
        if !leaves || forks {
            let mut ids: Vec<String> = comp.iter().map(|&c| nodes[c].id.clone()).collect();
            ids.sort();
            out.push(ids);
        }
    }
    out
}

/// Tarjan's strongly connected components of the subgraph of `inside` nodes
/// (iterative, so that a long chain cannot overflow the stack).
fn strongly_connected(next: &[Vec<NodeIdx>], inside: &[bool]) -> Vec<Vec<NodeIdx>> {
    let n = next.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut counter = 0;
    for root in 0..n {
        if !inside[root] || index[root] != usize::MAX {
            continue;
        }
        // (node, position in its successor list)
        let mut work = vec![(root, 0usize)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            if *pos < next[v].len() {
                let w = next[v][*pos];
                *pos += 1;
                if !inside[w] {
                    continue;
                }
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(comp);
            }
        }
    }
    out
}
