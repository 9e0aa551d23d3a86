//! The diagram layout (BPMNDI): shapes and edges with their coordinates, kept so
//! that pages can draw the diagram and overlay an instance's state.

use super::xml::{Element, Ns};

/// A rectangle in diagram coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// One `BPMNDiagram` (a file may have several, e.g. one per subprocess).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagram {
    pub id: Option<String>,
    pub name: Option<String>,
    /// The element the plane shows (a process or collaboration).
    pub plane_element: Option<String>,
    pub shapes: Vec<Shape>,
    pub edges: Vec<Edge>,
}

/// A `BPMNShape`.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub id: Option<String>,
    pub element: String,
    pub bounds: Bounds,
    pub label: Option<Bounds>,
    pub expanded: Option<bool>,
    pub horizontal: Option<bool>,
    pub marker_visible: Option<bool>,
    pub stroke: Option<String>,
    pub fill: Option<String>,
}

/// A `BPMNEdge`.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub id: Option<String>,
    pub element: String,
    pub waypoints: Vec<(f64, f64)>,
    pub label: Option<Bounds>,
    pub stroke: Option<String>,
}

fn number(el: &Element, name: &str) -> Option<f64> {
    el.attr(name)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn bounds(el: &Element) -> Option<Bounds> {
    Some(Bounds {
        x: number(el, "x")?,
        y: number(el, "y")?,
        width: number(el, "width")?,
        height: number(el, "height")?,
    })
}

fn flag(el: &Element, name: &str) -> Option<bool> {
    el.attr(name).map(|v| v.trim() == "true")
}

fn colour(el: &Element, bio: &str, omg: &str) -> Option<String> {
    el.attr_ns(Ns::BioColor, bio)
        .or_else(|| el.attr_ns(Ns::OmgColor, omg))
        .map(str::to_string)
}

fn label_bounds(el: &Element) -> Option<Bounds> {
    el.child(Ns::BpmnDi, "BPMNLabel")
        .and_then(|l| l.child(Ns::Dc, "Bounds"))
        .and_then(bounds)
}

/// Reads a `BPMNDiagram` element. Shapes or edges without usable coordinates are
/// skipped: the layout is for drawing only and never affects execution.
pub fn read(el: &Element) -> Diagram {
    let mut d = Diagram {
        id: el.id().map(str::to_string),
        name: el.attr("name").map(str::to_string),
        ..Diagram::default()
    };
    for plane in el.children_named(Ns::BpmnDi, "BPMNPlane") {
        if d.plane_element.is_none() {
            d.plane_element = plane.attr("bpmnElement").map(str::to_string);
        }
        for item in &plane.children {
            let Some(element) = item.attr("bpmnElement") else {
                continue;
            };
            if item.is(Ns::BpmnDi, "BPMNShape") {
                let Some(b) = item.child(Ns::Dc, "Bounds").and_then(bounds) else {
                    continue;
                };
                d.shapes.push(Shape {
                    id: item.id().map(str::to_string),
                    element: element.to_string(),
                    bounds: b,
                    label: label_bounds(item),
                    expanded: flag(item, "isExpanded"),
                    horizontal: flag(item, "isHorizontal"),
                    marker_visible: flag(item, "isMarkerVisible"),
                    stroke: colour(item, "stroke", "border-color"),
                    fill: colour(item, "fill", "background-color"),
                });
            } else if item.is(Ns::BpmnDi, "BPMNEdge") {
                let waypoints: Vec<(f64, f64)> = item
                    .children_named(Ns::Di, "waypoint")
                    .filter_map(|w| Some((number(w, "x")?, number(w, "y")?)))
                    .collect();
                if waypoints.len() < 2 {
                    continue;
                }
                d.edges.push(Edge {
                    id: item.id().map(str::to_string),
                    element: element.to_string(),
                    waypoints,
                    label: label_bounds(item),
                    stroke: colour(item, "stroke", "border-color"),
                });
            }
        }
    }
    d
}
