//! Draws a file's diagram (BPMNDI) as an inline SVG element, with overlays that
//! show where one process instance stands.
//!
//! Pure code: the layout and an [`Overlay`] in, a `<svg>` string out, no JavaScript
//! needed to look at it. The look follows bpmn.io's, so a diagram reads as it did
//! in the modeler. Every shape and flow carries `data-element="ID"` and classes by
//! kind and state (`shape task user-task active`) so that pages can restyle it; a
//! small `<style>` inside the SVG gives the default look. All text is escaped:
//! names, ids and colours come from uploaded files. A definition's statistics
//! ([`Figures`]) are drawn as count badges along an element's bottom edge and
//! as its fill colour.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::{self, Write};

use super::definitions::{Definitions, ElementInfo, LoopKind};
use super::diagram::{Bounds, Diagram, Edge, Shape};

/// How an element of one instance stands, for the overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkState {
    /// Running or waiting now.
    Active,
    /// Completed at least once and not active.
    Completed,
    /// Stuck on an incident.
    Incident,
    /// Ended without completing: cancelled with its instance, interrupted by
    /// a boundary event, or ended by a terminate end event.
    Terminated,
}

impl MarkState {
    fn class(self) -> &'static str {
        match self {
            MarkState::Active => "active",
            MarkState::Completed => "completed",
            MarkState::Incident => "incident",
            MarkState::Terminated => "terminated",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            MarkState::Active => "#1d4ed8",
            MarkState::Completed => "#15803d",
            MarkState::Incident => "#b91c1c",
            MarkState::Terminated => "#4b5563",
        }
    }
}

/// What the overlay shows on one element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mark {
    /// The state drawn as the element's colour; `None` leaves the file's colours.
    pub state: Option<MarkState>,
    /// Times it completed (shown as a small badge when > 1).
    pub count: u32,
    /// A link for the element (e.g. `"?element=Task_1#history"`): the shape is
    /// wrapped in `<a href>`.
    pub href: Option<String>,
    /// Tooltip text (`<title>`); also the accessible name of the link, so it
    /// should name the element and its state ("Review: completed").
    pub title: Option<String>,
}

/// Statistics drawn on one element: counts as badges along its bottom edge
/// (active and incidents on the left, cancelled and completed on the right;
/// zeros are left out) and a fill colour (e.g. a scale of time spent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub active: i64,
    pub completed: i64,
    pub cancelled: i64,
    pub incidents: i64,
    /// The body's fill colour (`#rrggbb`); the file's colours otherwise.
    pub fill: Option<String>,
    /// Tooltip text of the badges.
    pub title: String,
}

/// The marks of one instance (or a definition's statistics), by element id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overlay {
    pub marks: HashMap<String, Mark>,
    /// Statistics per element.
    pub figures: HashMap<String, Figures>,
    /// The drawing's size in percent of the file's coordinates (the `width`
    /// and `height` attributes); `None` draws it 1:1.
    pub zoom: Option<u32>,
}

/// A drawn diagram: the SVG and its natural size (one pixel per unit of the
/// file's coordinates, margins included).
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    pub svg: String,
    pub width: f64,
    pub height: f64,
}

/// The first diagram of the file as an SVG element; `None` when the file has no
/// BPMNDI layout.
pub fn render(defs: &Definitions, overlay: &Overlay) -> Option<String> {
    render_diagram(defs, 0, overlay)
}

/// The first diagram of the file with its natural size; `None` when the file
/// has no BPMNDI layout.
pub fn draw(defs: &Definitions, overlay: &Overlay) -> Option<Drawing> {
    let diagram = defs.diagrams.first()?;
    if diagram.shapes.is_empty() && diagram.edges.is_empty() {
        return None;
    }
    let mut painter = Painter::new(defs, diagram, overlay);
    painter.paint();
    painter.finish()
}

/// The diagram at this index of [`Definitions::diagrams`] as an SVG element;
/// `None` when there is no such diagram or it is empty.
pub fn render_diagram(defs: &Definitions, diagram: usize, overlay: &Overlay) -> Option<String> {
    let diagram = defs.diagrams.get(diagram)?;
    if diagram.shapes.is_empty() && diagram.edges.is_empty() {
        return None;
    }
    let mut painter = Painter::new(defs, diagram, overlay);
    painter.paint();
    painter.finish().map(|d| d.svg)
}

/// A count in at most five characters: `999`, `12.3k`, `4.5M`.
fn compact(n: i64) -> String {
    let a = n.unsigned_abs() as f64;
    let sign = if n < 0 { "-" } else { "" };
    if a < 1000.0 {
        n.to_string()
    } else if a < 1e6 {
        format!("{sign}{:.1}k", a / 1e3)
    } else if a < 1e9 {
        format!("{sign}{:.1}M", a / 1e6)
    } else {
        format!("{sign}{:.1}G", a / 1e9)
    }
}

/// Writing to a `String` cannot fail.
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

const STYLE: &str = "\
.bpmn{font-family:Arial,sans-serif;font-size:12px;color:#1f2933}\
.bpmn text{fill:currentColor;stroke:none}\
.bpmn .label{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}\
.bpmn .shape,.bpmn .flow{color:#1f2933}\
.bpmn .body{fill:#fff;stroke:currentColor}\
.bpmn .line{fill:none;stroke:currentColor;stroke-width:1.5px}\
.bpmn .active{color:#1d4ed8}\
.bpmn .active>.body{fill:#dbeafe;stroke-width:3px}\
.bpmn .completed{color:#15803d}\
.bpmn .completed>.body{fill:#e7f5ec}\
.bpmn .incident{color:#b91c1c}\
.bpmn .incident>.body{fill:#fee2e2;stroke-width:3px}\
.bpmn .terminated{color:#4b5563}\
.bpmn .terminated>.body{fill:#eceff3;stroke-dasharray:4 3}\
.bpmn .ring{display:none;fill:none;stroke:#b45309;stroke-width:3px}\
.bpmn a:focus{outline:none}\
.bpmn a:focus-visible .ring,.bpmn a:hover .ring{display:inline}\
.bpmn .active.end-event>.body,.bpmn .incident.end-event>.body{stroke-width:5px}\
.bpmn .flow.active>.line,.bpmn .flow.completed>.line,.bpmn .flow.incident>.line{stroke-width:3px}\
.bpmn .badge circle{fill:currentColor;stroke:#fff;stroke-width:1.5px}\
.bpmn .badge text{fill:#fff;font-size:10px;font-weight:bold}\
.bpmn .stats rect{stroke:#fff;stroke-width:1px}\
.bpmn .stats text{fill:#fff;font-size:10px;font-weight:bold}\
.bpmn a:hover .body{stroke-width:3px}";

/// Embedded labels (tasks, pools): font size, estimated width of a character, line height.
const BIG: Font = Font {
    size: 12.0,
    char_width: 6.0,
    line: 14.0,
};
/// External labels (events, gateways, flows), 11px as in bpmn.io.
const SMALL: Font = Font {
    size: 11.0,
    char_width: 5.6,
    line: 13.0,
};
/// Width of a label placed by us (no `BPMNLabel` bounds), as in bpmn.io.
const LABEL_WIDTH: f64 = 90.0;
const MARGIN: f64 = 20.0;

#[derive(Clone, Copy)]
struct Font {
    size: f64,
    char_width: f64,
    line: f64,
}

/// What kind of picture an element gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Pool,
    Lane,
    Event,
    Task,
    SubProcess,
    CallActivity,
    Gateway,
    DataObject,
    DataStore,
    Annotation,
    Group,
    Other,
}

impl Family {
    fn of(tag: &str) -> Family {
        match tag {
            "participant" => Family::Pool,
            "lane" => Family::Lane,
            "startEvent"
            | "endEvent"
            | "intermediateCatchEvent"
            | "intermediateThrowEvent"
            | "boundaryEvent"
            | "implicitThrowEvent" => Family::Event,
            "subProcess" | "transaction" | "adHocSubProcess" => Family::SubProcess,
            "callActivity" => Family::CallActivity,
            "dataObjectReference" | "dataObject" | "dataInput" | "dataOutput" => Family::DataObject,
            "dataStoreReference" | "dataStore" => Family::DataStore,
            "textAnnotation" => Family::Annotation,
            "group" => Family::Group,
            t if t.ends_with("Gateway") => Family::Gateway,
            t if t == "task" || t.ends_with("Task") => Family::Task,
            _ => Family::Other,
        }
    }

    fn class(self) -> &'static str {
        match self {
            Family::Pool => "pool",
            Family::Lane => "lane",
            Family::Event => "event",
            Family::Task => "task",
            Family::SubProcess => "subprocess",
            Family::CallActivity => "call-activity",
            Family::Gateway => "gateway",
            Family::DataObject => "data-object",
            Family::DataStore => "data-store",
            Family::Annotation => "annotation",
            Family::Group => "group",
            Family::Other => "other",
        }
    }

    /// Whether its name is written outside the shape.
    fn external_label(self) -> bool {
        matches!(
            self,
            Family::Event
                | Family::Gateway
                | Family::DataObject
                | Family::DataStore
                | Family::Group
        )
    }
}

/// The kind of line an edge is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Sequence,
    Message,
    Association,
    DataAssociation,
    Other,
}

impl Line {
    fn of(tag: &str) -> Line {
        match tag {
            "sequenceFlow" => Line::Sequence,
            "messageFlow" => Line::Message,
            "association" => Line::Association,
            "dataInputAssociation" | "dataOutputAssociation" => Line::DataAssociation,
            _ => Line::Other,
        }
    }
}

/// The area drawn on, for the `viewBox`.
#[derive(Debug, Clone, Copy)]
struct Extent {
    min: (f64, f64),
    max: (f64, f64),
}

impl Extent {
    fn empty() -> Extent {
        Extent {
            min: (f64::INFINITY, f64::INFINITY),
            max: (f64::NEG_INFINITY, f64::NEG_INFINITY),
        }
    }

    fn point(&mut self, x: f64, y: f64) {
        self.min = (self.min.0.min(x), self.min.1.min(y));
        self.max = (self.max.0.max(x), self.max.1.max(y));
    }

    fn rect(&mut self, b: Bounds) {
        self.point(b.x, b.y);
        self.point(b.x + b.width, b.y + b.height);
    }
}

/// A number as SVG wants it: at most two decimals, no trailing zeros.
struct N(f64);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", (self.0 * 100.0).round() / 100.0 + 0.0)
    }
}

/// Text made safe for element content and attribute values; characters that XML
/// 1.0 does not allow are dropped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A colour from the file when it looks like one (`#hex`, `rgb(...)`, a name);
/// anything else is ignored rather than written into a style.
fn colour(c: Option<&str>) -> Option<&str> {
    let c = c?.trim();
    let ok = !c.is_empty()
        && c.len() <= 40
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "#(),.% ".contains(ch));
    ok.then_some(c)
}

/// `userTask` -> `user-task`.
fn kebab(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len() + 4);
    for c in tag.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        }
    }
    out
}

/// Breaks text into lines of at most `width` pixels (estimated), at spaces and
/// after hyphens; line breaks in the text are kept.
fn wrap(text: &str, width: f64, font: Font) -> Vec<String> {
    let max = ((width / font.char_width).floor() as usize).max(1);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        let mut len = 0;
        for word in paragraph.split_whitespace() {
            for (i, piece) in pieces(word, max).into_iter().enumerate() {
                let n = piece.chars().count();
                // Pieces of one word join without a space.
                let space = usize::from(len > 0 && i == 0);
                if len > 0 && len + space + n > max {
                    lines.push(std::mem::take(&mut line));
                    len = 0;
                } else if space == 1 {
                    line.push(' ');
                    len += 1;
                }
                line.push_str(&piece);
                len += n;
            }
        }
        if len > 0 {
            lines.push(line);
        }
    }
    lines
}

/// A word split after its hyphens, and into chunks where it is longer than a line.
fn pieces(word: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for part in word.split_inclusive('-') {
        let chars: Vec<char> = part.chars().collect();
        out.extend(chars.chunks(max).map(|c| c.iter().collect::<String>()));
    }
    out
}

fn text_width(lines: &[String], font: Font) -> f64 {
    lines
        .iter()
        .map(|l| l.chars().count() as f64 * font.char_width)
        .fold(0.0, f64::max)
}

/// The name to write for an element, when it has one.
fn name_of(info: Option<&ElementInfo>) -> Option<&str> {
    info.and_then(|i| i.name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

fn centre(b: Bounds) -> (f64, f64) {
    (b.x + b.width / 2.0, b.y + b.height / 2.0)
}

fn inside(inner: Bounds, outer: Bounds) -> bool {
    inner.x >= outer.x
        && inner.y >= outer.y
        && inner.x + inner.width <= outer.x + outer.width
        && inner.y + inner.height <= outer.y + outer.height
}

/// Marker icons, in coordinates around the centre of a 36px event.
mod event_icon {
    pub const MESSAGE_CATCH: &str =
        r#"<rect x="-9.5" y="-6.5" width="19" height="13"/><path d="M-9.5-6.5 0 1 9.5-6.5"/>"#;
    pub const MESSAGE_THROW: &str = r##"<rect x="-9.5" y="-6.5" width="19" height="13" fill="currentColor"/><path d="M-9.5-6.5 0 1 9.5-6.5" fill="none" stroke="#fff"/>"##;
    pub const TIMER: &str = r#"<circle r="11" stroke-width="2"/><path d="M0-7.5V-9.5M3.75-6.5 4.75-8.23M6.5-3.75 8.23-4.75M7.5 0H9.5M6.5 3.75 8.23 4.75M3.75 6.5 4.75 8.23M0 7.5V9.5M-3.75 6.5-4.75 8.23M-6.5 3.75-8.23 4.75M-7.5 0H-9.5M-6.5-3.75-8.23-4.75M-3.75-6.5-4.75-8.23"/><path d="M0-7V0L5 2.5" stroke-width="1.5"/>"#;
    pub const ERROR: &str = r#"<path d="M-9 9-4-7 1 0 8-9 4 7-1-1Z"/>"#;
    pub const SIGNAL: &str = r#"<path d="M0-10.5 9 6H-9Z"/>"#;
    pub const ESCALATION: &str = r#"<path d="M0-10 7 8 0 2-7 8Z"/>"#;
    pub const CONDITIONAL: &str = r#"<rect x="-6.5" y="-8.5" width="13" height="17" fill="none"/><path d="M-4-5H4M-4-1.5H4M-4 2H4M-4 5.5H4"/>"#;
    pub const LINK: &str = r#"<path d="M-8-3H1V-8L9 0 1 8V3H-8Z"/>"#;
    pub const COMPENSATION: &str = r#"<path d="M-9 0-1-6.5V6.5ZM-1 0 7-6.5V6.5Z"/>"#;
    pub const CANCEL: &str = r#"<path d="M-5.3-8.84 0-3.54 5.3-8.84 8.84-5.3 3.54 0 8.84 5.3 5.3 8.84 0 3.54-5.3 8.84-8.84 5.3-3.54 0-8.84-5.3Z"/>"#;
    pub const TERMINATE: &str = r#"<circle r="10.5" fill="currentColor"/>"#;
    pub const MULTIPLE: &str = r#"<path d="M0-10 9.51-3.09 5.88 8.09H-5.88L-9.51-3.09Z"/>"#;
}

/// Gateway markers, around the centre of a 50px diamond.
mod gateway_icon {
    pub const EXCLUSIVE: &str = r#"<path fill="currentColor" stroke="none" d="M-7.07-10.61 0-3.54 7.07-10.61 10.61-7.07 3.54 0 10.61 7.07 7.07 10.61 0 3.54-7.07 10.61-10.61 7.07-3.54 0-10.61-7.07Z"/>"#;
    pub const PARALLEL: &str = r#"<path fill="currentColor" stroke="none" d="M-12-2.5H-2.5V-12H2.5V-2.5H12V2.5H2.5V12H-2.5V2.5H-12Z"/>"#;
    pub const INCLUSIVE: &str = r#"<circle r="11.5" stroke-width="2.5"/>"#;
    pub const COMPLEX: &str =
        r#"<path stroke-width="3" d="M0-12V12M-12 0H12M-8.5-8.5 8.5 8.5M-8.5 8.5 8.5-8.5"/>"#;
    pub const EVENT_BASED: &str = r#"<circle r="13"/><circle r="10.5"/><path d="M0-7.5 7.13-2.32 4.41 6.07H-4.41L-7.13-2.32Z" stroke-width="1.3"/>"#;
}

/// Task type icons, from the top-left corner of the task.
mod task_icon {
    pub const USER: &str = r##"<path fill="#fff" d="M7 24.5V21.5C7 18 10.5 16.5 15 16.5S23 18 23 21.5V24.5Z"/><circle cx="15" cy="11.5" r="4" fill="#fff"/><path d="M11 24.5V21.5M19 24.5V21.5"/>"##;
    pub const SERVICE: &str = r##"<circle cx="15" cy="15" r="7" stroke-width="3" stroke-dasharray="3 2.5"/><circle cx="15" cy="15" r="5.2" fill="#fff"/><circle cx="15" cy="15" r="2"/>"##;
    pub const SCRIPT: &str = r##"<path fill="#fff" d="M9 6H21Q17 10 21 14T21 22H9Q13 18 9 14T9 6Z"/><path d="M11.5 10H17.5M12.5 14H18.5M11.5 18H17.5"/>"##;
    pub const SEND: &str = r##"<rect x="6" y="7" width="18" height="12" fill="currentColor"/><path d="M6 7 15 14 24 7" fill="none" stroke="#fff"/>"##;
    pub const RECEIVE: &str =
        r##"<rect x="6" y="7" width="18" height="12" fill="#fff"/><path d="M6 7 15 14 24 7"/>"##;
    pub const MANUAL: &str = r##"<path fill="#fff" stroke-linejoin="round" d="M6 13 10 12 13.5 8.5Q15.2 7.8 15 9.8L13.5 12.5H23Q24.6 13.75 23 15H24Q25.6 16.25 24 17.5H23Q24.6 18.75 23 20H21Q22.6 21.25 21 22.5H6Z"/><path d="M16 15H23M16 17.5H23M16 20H21"/>"##;
    pub const BUSINESS_RULE: &str = r##"<rect x="7" y="8" width="17" height="12" fill="#fff"/><path d="M7 8H24V11.5H7Z" fill="currentColor"/><path d="M7 15.75H24M12 11.5V20"/>"##;
}

/// Activity markers, in a 14px box.
mod activity_marker {
    pub const LOOP: &str = r#"<path d="M4.2 11.2A5.5 5.5 0 1 1 9.8 11.2"/><path d="M9.8 11.2 9.6 7.6M9.8 11.2 13.2 10.4"/>"#;
    pub const PARALLEL: &str = r#"<path stroke-width="2" d="M3 1V13M7 1V13M11 1V13"/>"#;
    pub const SEQUENTIAL: &str = r#"<path stroke-width="2" d="M1 3H13M1 7H13M1 11H13"/>"#;
    pub const COLLAPSED: &str =
        r##"<rect width="14" height="14" fill="#fff"/><path d="M7 3.5V10.5M3.5 7H10.5"/>"##;
    pub const AD_HOC: &str = r#"<path d="M1 8.5C3 3.5 6 5 7 7S11 10.5 13 5.5"/>"#;
    pub const COMPENSATION: &str =
        r#"<path fill="currentColor" d="M1 7 7 2.5V11.5ZM7 7 13 2.5V11.5Z"/>"#;
}

/// The state of one drawing.
struct Painter<'a> {
    defs: &'a Definitions,
    diagram: &'a Diagram,
    overlay: &'a Overlay,
    /// Sequence flows that are their source's default flow.
    defaults: HashSet<&'a str>,
    body: String,
    /// External labels, written last so that no shape hides them.
    labels: String,
    extent: Extent,
    /// Colours of the flow markers in use, by marker id suffix.
    marker_colours: BTreeMap<String, String>,
}

impl<'a> Painter<'a> {
    fn new(defs: &'a Definitions, diagram: &'a Diagram, overlay: &'a Overlay) -> Painter<'a> {
        let defaults = defs
            .elements
            .values()
            .filter_map(|i| i.default_flow.as_deref())
            .collect();
        Painter {
            defs,
            diagram,
            overlay,
            defaults,
            body: String::new(),
            labels: String::new(),
            extent: Extent::empty(),
            marker_colours: BTreeMap::new(),
        }
    }

    fn info(&self, id: &str) -> Option<&'a ElementInfo> {
        self.defs.elements.get(id)
    }

    fn tag(&self, id: &str) -> &'a str {
        self.info(id).map_or("", |i| i.tag.as_str())
    }

    /// Containers first (largest first, so nested ones stay visible), then
    /// flows, then flow nodes; boundary events above their activity, groups on top.
    fn paint(&mut self) {
        let mut shapes: Vec<(u8, f64, &Shape)> = self
            .diagram
            .shapes
            .iter()
            .map(|s| {
                let family = Family::of(self.tag(&s.element));
                let layer = match family {
                    Family::Pool => 0,
                    Family::Lane => 1,
                    Family::SubProcess | Family::CallActivity if self.expanded(s, family) => 2,
                    _ if self.tag(&s.element) == "boundaryEvent" => 4,
                    Family::Group => 5,
                    _ => 3,
                };
                (layer, -(s.bounds.width * s.bounds.height), s)
            })
            .collect();
        shapes.sort_by(|a, b| {
            let area = |s: &(u8, f64, &Shape)| if s.0 <= 2 { s.1 } else { 0.0 };
            a.0.cmp(&b.0).then(area(a).total_cmp(&area(b)))
        });
        let split = shapes.partition_point(|s| s.0 <= 2);
        for (_, _, s) in &shapes[..split] {
            self.shape(s);
        }
        for e in &self.diagram.edges {
            self.edge(e);
        }
        for (_, _, s) in &shapes[split..] {
            self.shape(s);
        }
    }

    fn finish(mut self) -> Option<Drawing> {
        if !self.extent.min.0.is_finite() || !self.extent.max.0.is_finite() {
            return None;
        }
        let (x, y) = (self.extent.min.0 - MARGIN, self.extent.min.1 - MARGIN);
        let w = self.extent.max.0 - self.extent.min.0 + 2.0 * MARGIN;
        let h = self.extent.max.1 - self.extent.min.1 + 2.0 * MARGIN;
        let title = self.title();
        let mut out = String::with_capacity(self.body.len() + self.labels.len() + 4096);
        // Its natural size: one pixel per unit of the file, as the modeler
        // shows it at 100%; pages shrink it to fit, never enlarge it.
        let scale = f64::from(self.overlay.zoom.unwrap_or(100)) / 100.0;
        // An image hides what it contains from screen readers: a drawing
        // with links is a group, so that each link is read with its name.
        let linked = self.overlay.marks.values().any(|m| m.href.is_some());
        let role = if linked { "group" } else { "img" };
        put!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"bpmn\" viewBox=\"{} {} {} {}\" width=\"{}\" height=\"{}\" role=\"{role}\" aria-label=\"{}\">",
            N(x),
            N(y),
            N(w),
            N(h),
            N((w * scale).round()),
            N((h * scale).round()),
            esc(&title)
        );
        put!(out, "<style>{STYLE}</style><defs>");
        self.marker_colours
            .entry(String::new())
            .or_insert_with(|| "#1f2933".to_string());
        for (suffix, c) in &self.marker_colours {
            markers(&mut out, suffix, c);
        }
        out.push_str("</defs>");
        out.push_str(&self.body);
        out.push_str(&self.labels);
        out.push_str("</svg>");
        Some(Drawing {
            svg: out,
            width: w,
            height: h,
        })
    }

    fn title(&self) -> String {
        let name = self
            .diagram
            .plane_element
            .as_deref()
            .and_then(|p| name_of(self.info(p)))
            .or_else(|| self.defs.main_process().and_then(|p| p.name.as_deref()))
            .or(self.defs.name.as_deref());
        match name {
            Some(n) => format!("BPMN diagram: {n}"),
            None => "BPMN diagram".to_string(),
        }
    }

    /// Whether an activity is drawn open with its content. Files without
    /// `isExpanded` count as expanded when other shapes lie inside.
    fn expanded(&self, shape: &Shape, family: Family) -> bool {
        if !matches!(family, Family::SubProcess | Family::CallActivity) {
            return false;
        }
        shape.expanded.unwrap_or_else(|| {
            self.diagram.shapes.iter().any(|o| {
                !std::ptr::eq(o, shape)
                    && self.tag(&o.element) != "boundaryEvent"
                    && inside(o.bounds, shape.bounds)
            })
        })
    }

    /// Opens the group of an element: link, classes, colour and tooltip.
    fn open(&mut self, id: &str, classes: &str, mark: Option<&Mark>, stroke: Option<&str>) {
        if let Some(href) = mark.and_then(|m| m.href.as_deref()) {
            put!(self.body, "<a href=\"{}\"", esc(href));
            // Screen readers name a link by this, not by the drawing.
            let label = mark
                .and_then(|m| m.title.clone())
                .or_else(|| name_of(self.info(id)).map(str::to_string))
                .unwrap_or_else(|| id.to_string());
            put!(self.body, " aria-label=\"{}\">", esc(&label));
        }
        put!(
            self.body,
            "<g class=\"{}\" data-element=\"{}\"",
            esc(classes),
            esc(id)
        );
        if let Some(c) = stroke {
            put!(self.body, " style=\"color:{}\"", esc(c));
        }
        self.body.push('>');
        if let Some(t) = mark.and_then(|m| m.title.as_deref()) {
            put!(self.body, "<title>{}</title>", esc(t));
        }
    }

    fn close(&mut self, mark: Option<&Mark>) {
        self.body.push_str("</g>");
        if mark.is_some_and(|m| m.href.is_some()) {
            self.body.push_str("</a>");
        }
    }

    fn shape(&mut self, shape: &Shape) {
        let info = self.info(&shape.element);
        let tag = info.map_or("", |i| i.tag.as_str());
        let family = Family::of(tag);
        let mark = self.overlay.marks.get(&shape.element);
        let state = mark.and_then(|m| m.state);
        let expanded = self.expanded(shape, family);
        let mut classes = format!("shape {}", family.class());
        let kind = kebab(tag);
        if !kind.is_empty() && kind != family.class() {
            classes.push(' ');
            classes.push_str(&kind);
        }
        if matches!(family, Family::SubProcess | Family::CallActivity) {
            classes.push_str(if expanded { " expanded" } else { " collapsed" });
        }
        if let Some(s) = state {
            classes.push(' ');
            classes.push_str(s.class());
        }
        // The file's colours, unless the overlay colours the element.
        let stroke = colour(shape.stroke.as_deref()).filter(|_| state.is_none());
        let figures = self.overlay.figures.get(&shape.element);
        let heat = figures.and_then(|f| colour(f.fill.as_deref()));
        let fill = match heat
            .or(colour(shape.fill.as_deref()))
            .filter(|_| state.is_none())
        {
            Some(c) => format!(" style=\"fill:{}\"", esc(c)),
            None => String::new(),
        };
        self.open(&shape.element, &classes, mark, stroke);
        self.extent.rect(shape.bounds);
        match family {
            Family::Pool => self.pool(shape, info, &fill),
            Family::Lane => self.lane(shape, info, &fill),
            Family::Event => self.event(shape.bounds, info, tag, &fill),
            Family::Gateway => self.gateway(shape, tag, &fill),
            Family::DataObject => self.data_object(shape.bounds, tag, &fill),
            Family::DataStore => self.data_store(shape.bounds, &fill),
            Family::Annotation => self.annotation(shape.bounds, info),
            Family::Group => self.group(shape.bounds),
            Family::Task | Family::SubProcess | Family::CallActivity | Family::Other => {
                self.activity(shape, info, tag, expanded, &fill)
            }
        }
        if let Some(m) = mark.filter(|m| m.count > 1) {
            self.badge(shape.bounds, m.count);
        }
        if let Some(f) = figures {
            self.figures(shape.bounds, f);
        }
        if mark.is_some_and(|m| m.href.is_some()) {
            self.ring(shape.bounds);
        }
        self.close(mark);
        if family.external_label() {
            self.shape_label(shape, info, family);
        }
    }

    fn rect(&mut self, b: Bounds, radius: f64, stroke_width: f64, extra: &str) {
        put!(
            self.body,
            "<rect class=\"body\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
            N(b.x),
            N(b.y),
            N(b.width),
            N(b.height)
        );
        if radius > 0.0 {
            put!(self.body, " rx=\"{}\"", N(radius));
        }
        put!(self.body, " stroke-width=\"{}\"{extra}/>", N(stroke_width));
    }

    /// Writes an icon made for the origin `(x, y)` at this scale.
    fn icon(&mut self, x: f64, y: f64, scale: f64, filled: bool, icon: &str) {
        put!(
            self.body,
            "<g class=\"icon\" fill=\"{}\" stroke=\"currentColor\" stroke-width=\"1\" transform=\"translate({} {})",
            if filled { "currentColor" } else { "none" },
            N(x),
            N(y)
        );
        if (scale - 1.0).abs() > 0.01 {
            put!(self.body, " scale({})", N(scale));
        }
        put!(self.body, "\">{icon}</g>");
    }

    fn pool(&mut self, shape: &Shape, info: Option<&ElementInfo>, fill: &str) {
        let b = shape.bounds;
        self.rect(b, 0.0, 1.5, fill);
        let name = name_of(info).unwrap_or_default();
        let black_box = !self
            .defs
            .participants
            .iter()
            .any(|p| p.id == shape.element && p.process.is_some());
        if black_box {
            let lines = wrap(name, b.width - 20.0, BIG);
            let (cx, cy) = centre(b);
            text_block(&mut self.body, &lines, cx, cy, BIG, "");
        } else {
            self.band(shape, name, true);
        }
    }

    fn lane(&mut self, shape: &Shape, info: Option<&ElementInfo>, fill: &str) {
        self.rect(shape.bounds, 0.0, 1.0, fill);
        self.band(shape, name_of(info).unwrap_or_default(), false);
    }

    /// The 30px band of a pool or lane with its name: on the left, written
    /// upwards, when horizontal; on top otherwise.
    fn band(&mut self, shape: &Shape, name: &str, line: bool) {
        let b = shape.bounds;
        if shape.horizontal.unwrap_or(b.width >= b.height) {
            if line {
                put!(
                    self.body,
                    "<path d=\"M{} {}V{}\" stroke=\"currentColor\" stroke-width=\"1.5\"/>",
                    N(b.x + 30.0),
                    N(b.y),
                    N(b.y + b.height)
                );
            }
            let lines = wrap(name, b.height - 10.0, BIG);
            let (cx, cy) = (b.x + 15.0, b.y + b.height / 2.0);
            let rotate = format!(" transform=\"rotate(-90 {} {})\"", N(cx), N(cy));
            text_block(&mut self.body, &lines, cx, cy, BIG, &rotate);
        } else {
            if line {
                put!(
                    self.body,
                    "<path d=\"M{} {}H{}\" stroke=\"currentColor\" stroke-width=\"1.5\"/>",
                    N(b.x),
                    N(b.y + 30.0),
                    N(b.x + b.width)
                );
            }
            let lines = wrap(name, b.width - 10.0, BIG);
            text_block(
                &mut self.body,
                &lines,
                b.x + b.width / 2.0,
                b.y + 15.0,
                BIG,
                "",
            );
        }
    }

    fn event(&mut self, b: Bounds, info: Option<&ElementInfo>, tag: &str, fill: &str) {
        let (cx, cy) = centre(b);
        let r = (b.width + b.height) / 4.0;
        let dash = if info.is_none_or(|i| i.interrupting) {
            ""
        } else {
            " stroke-dasharray=\"5 3\""
        };
        let circle = |out: &mut String, class: &str, r: f64, width: f64, extra: &str| {
            put!(
                out,
                "<circle{class} cx=\"{}\" cy=\"{}\" r=\"{}\" stroke-width=\"{}\"{extra}/>",
                N(cx),
                N(cy),
                N(r.max(0.0)),
                N(width)
            );
        };
        match tag {
            "startEvent" => circle(
                &mut self.body,
                " class=\"body\"",
                r,
                2.0,
                &(fill.to_string() + dash),
            ),
            "endEvent" => circle(&mut self.body, " class=\"body\"", r, 4.0, fill),
            _ => {
                circle(
                    &mut self.body,
                    " class=\"body\"",
                    r,
                    1.5,
                    &(fill.to_string() + dash),
                );
                let ring = format!(" fill=\"none\" stroke=\"currentColor\"{dash}");
                circle(&mut self.body, "", r - 3.0, 1.5, &ring);
            }
        }
        let Some(info) = info else { return };
        let throw = matches!(
            tag,
            "endEvent" | "intermediateThrowEvent" | "implicitThrowEvent"
        );
        let kinds: Vec<&str> = info
            .event_definitions
            .iter()
            .map(String::as_str)
            .filter(|d| d.ends_with("EventDefinition"))
            .collect();
        let icon = match kinds.as_slice() {
            [] => return,
            [_, _, ..] => event_icon::MULTIPLE,
            [one] => match *one {
                "messageEventDefinition" if throw => event_icon::MESSAGE_THROW,
                "messageEventDefinition" => event_icon::MESSAGE_CATCH,
                "timerEventDefinition" => event_icon::TIMER,
                "errorEventDefinition" => event_icon::ERROR,
                "signalEventDefinition" => event_icon::SIGNAL,
                "escalationEventDefinition" => event_icon::ESCALATION,
                "conditionalEventDefinition" => event_icon::CONDITIONAL,
                "linkEventDefinition" => event_icon::LINK,
                "compensateEventDefinition" => event_icon::COMPENSATION,
                "cancelEventDefinition" => event_icon::CANCEL,
                "terminateEventDefinition" => event_icon::TERMINATE,
                _ => return,
            },
        };
        self.icon(cx, cy, r / 18.0, throw, icon);
    }

    fn activity(
        &mut self,
        shape: &Shape,
        info: Option<&ElementInfo>,
        tag: &str,
        expanded: bool,
        fill: &str,
    ) {
        let b = shape.bounds;
        let width = if tag == "callActivity" { 4.5 } else { 2.0 };
        let dashed = info.is_some_and(|i| i.triggered_by_event);
        // An event subprocess is drawn with a dotted border (BPMN 2.0, 10.3.5).
        let extra = if dashed {
            format!("{fill} stroke-dasharray=\"0.5 4\" stroke-linecap=\"round\"")
        } else {
            fill.to_string()
        };
        self.rect(b, 10.0, width, &extra);
        if tag == "transaction" {
            let inner = Bounds {
                x: b.x + 3.0,
                y: b.y + 3.0,
                width: (b.width - 6.0).max(0.0),
                height: (b.height - 6.0).max(0.0),
            };
            put!(
                self.body,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"7\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\"/>",
                N(inner.x),
                N(inner.y),
                N(inner.width),
                N(inner.height)
            );
        }
        if let Some(icon) = task_icon(tag) {
            self.icon(b.x, b.y, 1.0, false, icon);
        }
        let markers = activity_markers(info, tag, expanded);
        let name = name_of(info).unwrap_or_default();
        if expanded {
            let lines = wrap(name, b.width - 20.0, BIG);
            text_lines(
                &mut self.body,
                &lines,
                b.x + 10.0,
                b.y + 18.0,
                BIG,
                "start",
                "",
            );
        } else {
            let lines = wrap(name, b.width - 10.0, BIG);
            let (cx, mut cy) = centre(b);
            if !markers.is_empty() {
                cy -= 7.0;
            }
            // Below the type icon in the top left corner when the text is
            // wide enough to reach it and there is room.
            let half = lines.len() as f64 * BIG.line / 2.0;
            let icon_bottom = b.y + 26.0;
            let bottom = b.y + b.height - if markers.is_empty() { 4.0 } else { 18.0 };
            let reaches = text_width(&lines, BIG) / 2.0 > b.width / 2.0 - 30.0;
            if task_icon(tag).is_some() && reaches && cy - half < icon_bottom {
                cy = (icon_bottom + half).min(bottom - half).max(cy);
            }
            text_block(&mut self.body, &lines, cx, cy, BIG, "");
        }
        // Side by side at the bottom centre.
        let total = markers.len() as f64 * 18.0 - 4.0;
        let mut x = b.x + b.width / 2.0 - total / 2.0;
        for m in markers {
            self.icon(x, b.y + b.height - 18.0, 1.0, false, m);
            x += 18.0;
        }
    }

    fn gateway(&mut self, shape: &Shape, tag: &str, fill: &str) {
        let b = shape.bounds;
        let (cx, cy) = centre(b);
        put!(
            self.body,
            "<path class=\"body\" d=\"M{} {}L{} {}L{} {}L{} {}Z\" stroke-width=\"2\"{fill}/>",
            N(cx),
            N(b.y),
            N(b.x + b.width),
            N(cy),
            N(cx),
            N(b.y + b.height),
            N(b.x),
            N(cy)
        );
        let icon = match tag {
            // bpmn-js draws the X only when asked to.
            "exclusiveGateway" if shape.marker_visible == Some(true) => gateway_icon::EXCLUSIVE,
            "parallelGateway" => gateway_icon::PARALLEL,
            "inclusiveGateway" => gateway_icon::INCLUSIVE,
            "complexGateway" => gateway_icon::COMPLEX,
            "eventBasedGateway" => gateway_icon::EVENT_BASED,
            _ => return,
        };
        let scale = b.width.min(b.height) / 50.0;
        self.icon(cx, cy, scale, false, icon);
    }

    fn data_object(&mut self, b: Bounds, tag: &str, fill: &str) {
        let fold = (b.width.min(b.height) * 0.33).min(12.0);
        let (r, bottom) = (b.x + b.width, b.y + b.height);
        put!(
            self.body,
            "<path class=\"body\" d=\"M{} {}H{}L{} {}V{}H{}Z\" stroke-width=\"1.5\"{fill}/>",
            N(b.x),
            N(b.y),
            N(r - fold),
            N(r),
            N(b.y + fold),
            N(bottom),
            N(b.x)
        );
        put!(
            self.body,
            "<path d=\"M{} {}V{}H{}\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\"/>",
            N(r - fold),
            N(b.y),
            N(b.y + fold),
            N(r)
        );
        if matches!(tag, "dataInput" | "dataOutput") {
            let arrow = "<path d=\"M3 6H9V2.5L15 8.5 9 14.5V11H3Z\"/>";
            self.icon(b.x, b.y, 1.0, tag == "dataOutput", arrow);
        }
    }

    fn data_store(&mut self, b: Bounds, fill: &str) {
        let rx = b.width / 2.0;
        let ry = (b.height * 0.12).min(10.0);
        let (l, r, top, bottom) = (b.x, b.x + b.width, b.y + ry, b.y + b.height - ry);
        put!(
            self.body,
            "<path class=\"body\" d=\"M{} {}V{}A{} {} 0 0 0 {} {}V{}A{} {} 0 0 0 {} {}Z\" stroke-width=\"1.5\"{fill}/>",
            N(l),
            N(top),
            N(bottom),
            N(rx),
            N(ry),
            N(r),
            N(bottom),
            N(top),
            N(rx),
            N(ry),
            N(l),
            N(top)
        );
        for dy in [0.0, 5.0, 10.0] {
            put!(
                self.body,
                "<path d=\"M{} {}A{} {} 0 0 0 {} {}\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\"/>",
                N(l),
                N(top + dy),
                N(rx),
                N(ry),
                N(r),
                N(top + dy)
            );
        }
    }

    fn annotation(&mut self, b: Bounds, info: Option<&ElementInfo>) {
        let arm = b.width.min(10.0);
        put!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"none\"/><path d=\"M{} {}H{}V{}H{}\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\"/>",
            N(b.x),
            N(b.y),
            N(b.width),
            N(b.height),
            N(b.x + arm),
            N(b.y),
            N(b.x),
            N(b.y + b.height),
            N(b.x + arm)
        );
        let lines = wrap(name_of(info).unwrap_or_default(), b.width - 10.0, BIG);
        text_lines(
            &mut self.body,
            &lines,
            b.x + 5.0,
            b.y + 16.0,
            BIG,
            "start",
            "",
        );
    }

    fn group(&mut self, b: Bounds) {
        put!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"10\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" stroke-dasharray=\"10 5 2 5\"/>",
            N(b.x),
            N(b.y),
            N(b.width),
            N(b.height)
        );
    }

    /// The focus ring of a linked shape: drawn last, outside its border, so
    /// no stroke hides it; shown only while the link has focus (or the pointer).
    fn ring(&mut self, b: Bounds) {
        put!(
            self.body,
            "<rect class=\"ring\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\"/>",
            N(b.x - 5.0),
            N(b.y - 5.0),
            N(b.width + 10.0),
            N(b.height + 10.0)
        );
    }

    fn badge(&mut self, b: Bounds, count: u32) {
        let (x, y) = (b.x + b.width, b.y);
        put!(
            self.body,
            "<g class=\"badge\"><circle cx=\"{}\" cy=\"{}\" r=\"9\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{count}</text></g>",
            N(x),
            N(y),
            N(x),
            N(y + 3.5)
        );
        self.extent.point(x + 9.0, y - 9.0);
    }

    /// Statistics badges along the bottom edge of `b`.
    fn figures(&mut self, b: Bounds, f: &Figures) {
        let left = [(f.active, "#1d4ed8"), (f.incidents, "#b91c1c")];
        let right = [(f.cancelled, "#4b5563"), (f.completed, "#15803d")];
        let y = b.y + b.height;
        let pill = |n: i64| 8.0 + 6.0 * compact(n).chars().count() as f64;
        put!(
            self.body,
            "<g class=\"stats\"><title>{}</title>",
            esc(&f.title)
        );
        let mut x = b.x - 6.0;
        for (n, c) in left.into_iter().filter(|(n, _)| *n != 0) {
            let w = pill(n);
            self.pill(x, y, w, n, c);
            x += w + 2.0;
        }
        let mut x = b.x + b.width + 6.0;
        for (n, c) in right.into_iter().rev().filter(|(n, _)| *n != 0) {
            let w = pill(n);
            x -= w;
            self.pill(x, y, w, n, c);
            x -= 2.0;
        }
        self.body.push_str("</g>");
    }

    fn pill(&mut self, x: f64, y: f64, w: f64, n: i64, colour: &str) {
        put!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" rx=\"7\" style=\"fill:{colour}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            N(x),
            N(y - 7.0),
            N(w),
            N(x + w / 2.0),
            N(y + 3.5),
            compact(n)
        );
        self.extent.point(x, y - 7.0);
        self.extent.point(x + w, y + 7.0);
    }

    /// The name of an event, gateway, data element or group: in its label
    /// bounds, else centred below it (a group: at its top).
    fn shape_label(&mut self, shape: &Shape, info: Option<&ElementInfo>, family: Family) {
        let Some(name) = name_of(info) else { return };
        let b = shape.bounds;
        let (cx, top, width) = match shape.label {
            Some(l) => (l.x + l.width / 2.0, l.y, l.width.max(LABEL_WIDTH)),
            None if family == Family::Group => {
                (b.x + b.width / 2.0, b.y + 5.0, b.width.max(LABEL_WIDTH))
            }
            None => (b.x + b.width / 2.0, b.y + b.height + 5.0, LABEL_WIDTH),
        };
        self.external_label(&shape.element, name, cx, top, width);
    }

    fn external_label(&mut self, id: &str, name: &str, cx: f64, top: f64, width: f64) {
        let lines = wrap(name, width, SMALL);
        let half = text_width(&lines, SMALL) / 2.0;
        self.extent.point(cx - half, top);
        self.extent
            .point(cx + half, top + lines.len() as f64 * SMALL.line);
        let attrs = format!(" class=\"label\" data-label-for=\"{}\"", esc(id));
        text_lines(
            &mut self.labels,
            &lines,
            cx,
            top + SMALL.size,
            SMALL,
            "middle",
            &attrs,
        );
    }

    fn edge(&mut self, edge: &Edge) {
        let info = self.info(&edge.element);
        let tag = info.map_or("", |i| i.tag.as_str());
        let line = Line::of(tag);
        let mark = self.overlay.marks.get(&edge.element);
        let state = mark.and_then(|m| m.state);
        let stroke = colour(edge.stroke.as_deref()).filter(|_| state.is_none());
        let suffix = self.marker_variant(state, stroke);
        let mut classes = String::from("flow");
        let kind = kebab(tag);
        if !kind.is_empty() {
            classes.push(' ');
            classes.push_str(&kind);
        }
        if let Some(s) = state {
            classes.push(' ');
            classes.push_str(s.class());
        }
        self.open(&edge.element, &classes, mark, stroke);
        let mut d = String::new();
        for (i, (x, y)) in edge.waypoints.iter().enumerate() {
            put!(d, "{}{} {}", if i == 0 { "M" } else { "L" }, N(*x), N(*y));
            self.extent.point(*x, *y);
        }
        let style = match line {
            Line::Sequence => format!(" marker-end=\"url(#bpmn-seq{suffix})\""),
            Line::Message => format!(
                " stroke-dasharray=\"10 6\" marker-start=\"url(#bpmn-msg-start{suffix})\" marker-end=\"url(#bpmn-msg-end{suffix})\""
            ),
            Line::Association => " stroke-dasharray=\"1 4\" stroke-linecap=\"round\"".to_string(),
            Line::DataAssociation => format!(
                " stroke-dasharray=\"1 4\" stroke-linecap=\"round\" marker-end=\"url(#bpmn-assoc{suffix})\""
            ),
            Line::Other => String::new(),
        };
        put!(self.body, "<path class=\"line\" d=\"{d}\"{style}/>");
        if line == Line::Sequence {
            self.flow_source_marker(edge, info);
        }
        self.close(mark);
        if let Some(name) = name_of(info) {
            let (cx, top, width) = match edge.label {
                Some(l) => (l.x + l.width / 2.0, l.y, l.width.max(LABEL_WIDTH)),
                None => {
                    // Beside the flow, not across it: right of a vertical
                    // segment, above a horizontal one.
                    let (x, y, vertical) = midpoint_dir(&edge.waypoints);
                    let lines = wrap(name, LABEL_WIDTH, SMALL);
                    let h = lines.len() as f64 * SMALL.line;
                    if vertical {
                        let half = text_width(&lines, SMALL) / 2.0;
                        (x + 6.0 + half, y - h / 2.0, LABEL_WIDTH)
                    } else {
                        (x, y - 4.0 - h, LABEL_WIDTH)
                    }
                }
            };
            self.external_label(&edge.element, name, cx, top, width);
        }
    }

    /// The default-flow slash, or the conditional diamond of a flow that leaves
    /// an activity with a condition.
    fn flow_source_marker(&mut self, edge: &Edge, info: Option<&ElementInfo>) {
        let (Some(&(x0, y0)), Some(&(x1, y1))) = (edge.waypoints.first(), edge.waypoints.get(1))
        else {
            return;
        };
        let len = (x1 - x0).hypot(y1 - y0);
        if len < 1.0 {
            return;
        }
        let (ux, uy) = ((x1 - x0) / len, (y1 - y0) / len);
        let (nx, ny) = (-uy, ux);
        if self.defaults.contains(edge.element.as_str()) {
            let (px, py) = (x0 + ux * 10.0, y0 + uy * 10.0);
            // A slash at about 60 degrees to the flow.
            let (sx, sy) = (ux * 3.0 + nx * 5.2, uy * 3.0 + ny * 5.2);
            put!(
                self.body,
                "<path d=\"M{} {}L{} {}\" stroke=\"currentColor\" stroke-width=\"1.5\"/>",
                N(px - sx),
                N(py - sy),
                N(px + sx),
                N(py + sy)
            );
            return;
        }
        let from_activity = info
            .and_then(|i| i.source.as_deref())
            .map(|s| Family::of(self.tag(s)))
            .is_some_and(|f| matches!(f, Family::Task | Family::SubProcess | Family::CallActivity));
        if info.is_some_and(|i| i.conditional) && from_activity {
            let (mx, my) = (x0 + ux * 8.0, y0 + uy * 8.0);
            put!(
                self.body,
                "<path d=\"M{} {}L{} {}L{} {}L{} {}Z\" fill=\"#fff\" stroke=\"currentColor\" stroke-width=\"1\"/>",
                N(x0),
                N(y0),
                N(mx + nx * 4.5),
                N(my + ny * 4.5),
                N(x0 + ux * 16.0),
                N(y0 + uy * 16.0),
                N(mx - nx * 4.5),
                N(my - ny * 4.5)
            );
        }
    }

    /// The suffix of the markers drawn in the colour of this state or file colour.
    fn marker_variant(&mut self, state: Option<MarkState>, file: Option<&str>) -> String {
        let (suffix, c) = match (state, file) {
            (Some(s), _) => (format!("-{}", s.class()), s.colour().to_string()),
            (None, Some(c)) => {
                let id: String = c.chars().filter(char::is_ascii_alphanumeric).collect();
                (format!("-c{}", id.to_ascii_lowercase()), c.to_string())
            }
            (None, None) => (String::new(), "#1f2933".to_string()),
        };
        self.marker_colours.insert(suffix.clone(), c);
        suffix
    }
}

/// The loop, ad-hoc and collapsed markers of an activity, in drawing order.
fn activity_markers(info: Option<&ElementInfo>, tag: &str, expanded: bool) -> Vec<&'static str> {
    let mut markers = Vec::new();
    match info.and_then(|i| i.loop_kind) {
        Some(LoopKind::Standard) => markers.push(activity_marker::LOOP),
        Some(LoopKind::Parallel) => markers.push(activity_marker::PARALLEL),
        Some(LoopKind::Sequential) => markers.push(activity_marker::SEQUENTIAL),
        None => {}
    }
    if tag == "adHocSubProcess" {
        markers.push(activity_marker::AD_HOC);
    }
    if info.is_some_and(|i| i.for_compensation) {
        markers.push(activity_marker::COMPENSATION);
    }
    // bpmn-js and the MIWG references mark a collapsed call activity like a
    // collapsed subprocess: it stands for a process drawn elsewhere.
    if !expanded
        && matches!(
            tag,
            "subProcess" | "transaction" | "adHocSubProcess" | "callActivity"
        )
    {
        markers.push(activity_marker::COLLAPSED);
    }
    markers
}

fn task_icon(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "userTask" => task_icon::USER,
        "serviceTask" => task_icon::SERVICE,
        "scriptTask" => task_icon::SCRIPT,
        "sendTask" => task_icon::SEND,
        "receiveTask" => task_icon::RECEIVE,
        "manualTask" => task_icon::MANUAL,
        "businessRuleTask" => task_icon::BUSINESS_RULE,
        _ => return None,
    })
}

/// The flow markers in one colour. Ids depend only on the colour, so several
/// diagrams on one page can share them.
fn markers(out: &mut String, suffix: &str, c: &str) {
    let c = esc(c);
    put!(
        out,
        "<marker id=\"bpmn-seq{suffix}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"10\" markerHeight=\"10\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0 1L10 5L0 9Z\" fill=\"{c}\"/></marker>"
    );
    put!(
        out,
        "<marker id=\"bpmn-msg-start{suffix}\" viewBox=\"0 0 12 12\" refX=\"6\" refY=\"6\" markerWidth=\"12\" markerHeight=\"12\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><circle cx=\"6\" cy=\"6\" r=\"4.5\" fill=\"#fff\" stroke=\"{c}\" stroke-width=\"1.5\"/></marker>"
    );
    put!(
        out,
        "<marker id=\"bpmn-msg-end{suffix}\" viewBox=\"0 0 12 12\" refX=\"11\" refY=\"6\" markerWidth=\"12\" markerHeight=\"12\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M1 1.5L11 6L1 10.5Z\" fill=\"#fff\" stroke=\"{c}\" stroke-width=\"1.5\"/></marker>"
    );
    put!(
        out,
        "<marker id=\"bpmn-assoc{suffix}\" viewBox=\"0 0 12 12\" refX=\"11\" refY=\"6\" markerWidth=\"12\" markerHeight=\"12\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M1 1.5L11 6L1 10.5\" fill=\"none\" stroke=\"{c}\" stroke-width=\"1.5\"/></marker>"
    );
}

/// The point halfway along a polyline, and whether the segment it lies on
/// is closer to vertical than to horizontal.
fn midpoint_dir(points: &[(f64, f64)]) -> (f64, f64, bool) {
    let (x, y) = midpoint(points);
    let vertical = points
        .windows(2)
        .find(|w| {
            let (lo_x, hi_x) = (w[0].0.min(w[1].0), w[0].0.max(w[1].0));
            let (lo_y, hi_y) = (w[0].1.min(w[1].1), w[0].1.max(w[1].1));
            (lo_x - 0.5..=hi_x + 0.5).contains(&x) && (lo_y - 0.5..=hi_y + 0.5).contains(&y)
        })
        .is_some_and(|w| (w[1].1 - w[0].1).abs() > (w[1].0 - w[0].0).abs());
    (x, y, vertical)
}

/// The point halfway along a polyline.
fn midpoint(points: &[(f64, f64)]) -> (f64, f64) {
    let total: f64 = points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1))
        .sum();
    let mut left = total / 2.0;
    for w in points.windows(2) {
        let len = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
        if len >= left && len > 0.0 {
            let t = left / len;
            return (
                w[0].0 + (w[1].0 - w[0].0) * t,
                w[0].1 + (w[1].1 - w[0].1) * t,
            );
        }
        left -= len;
    }
    points.first().copied().unwrap_or_default()
}

/// Lines of text centred on `(cx, cy)`.
fn text_block(out: &mut String, lines: &[String], cx: f64, cy: f64, font: Font, attrs: &str) {
    let first = cy - (lines.len() as f64 - 1.0) * font.line / 2.0 + font.size * 0.35;
    text_lines(out, lines, cx, first, font, "middle", attrs);
}

/// Lines of text from the first baseline at `(x, y)`, anchored `start` or `middle`.
fn text_lines(
    out: &mut String,
    lines: &[String],
    x: f64,
    y: f64,
    font: Font,
    anchor: &str,
    attrs: &str,
) {
    if lines.is_empty() {
        return;
    }
    put!(out, "<text x=\"{}\" y=\"{}\"", N(x), N(y));
    if anchor != "start" {
        put!(out, " text-anchor=\"{anchor}\"");
    }
    put!(out, "{attrs}>");
    if let [only] = lines {
        out.push_str(&esc(only));
    } else {
        for (i, line) in lines.iter().enumerate() {
            put!(
                out,
                "<tspan x=\"{}\" y=\"{}\">{}</tspan>",
                N(x),
                N(y + i as f64 * font.line),
                esc(line)
            );
        }
    }
    out.push_str("</text>");
}
