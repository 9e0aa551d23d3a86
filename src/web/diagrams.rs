//! The frame every diagram is shown in, and the full-screen diagram pages.
//!
//! A diagram is drawn at most 1:1 (its natural size, as the modeler shows it
//! at 100%) and shrunk to the page's width only when it is wider. Zoom works
//! without JavaScript: links carry `?zoom=` in percent and the frame scrolls
//! natively; `static/app.js` makes the same links zoom in place and adds
//! dragging to pan and Ctrl+wheel to zoom. The full-screen pages show only
//! the diagram, with the same zoom links.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::AppState;
use super::auth::CurrentUser;
use super::error::WebError;
use super::render::{Layout, render, urlencode};
use crate::model::svg::{self, Overlay};
use crate::runtime::Deployed;

/// The zoom levels the links step through, in percent.
pub const ZOOMS: &[u32] = &[25, 50, 75, 100, 150, 200, 300, 400];

/// A diagram ready for the page, with its zoom links.
pub struct DiagramView {
    pub svg: String,
    /// Natural size in pixels.
    pub width: u32,
    pub height: u32,
    /// The zoom asked for; `None` is "fit": 1:1, shrunk when wider than the page.
    pub zoom: Option<u32>,
    pub smaller: Option<String>,
    pub bigger: Option<String>,
    pub fit: String,
    pub actual: String,
    /// The full-screen page (or, on it, the page it came from).
    pub other: String,
    pub full_screen: bool,
}

impl DiagramView {
    /// The zoom as the bar shows it.
    pub fn zoom_text(&self) -> String {
        match self.zoom {
            Some(z) => format!("{z}%"),
            None => "fit".to_string(),
        }
    }
}

/// `?zoom=` read: empty or `fit` is fitting, else a percentage in
/// [`ZOOMS`]' range; anything else is refused with a message naming it.
pub fn parse_zoom(text: Option<&str>) -> Result<Option<u32>, WebError> {
    let text = text.map(str::trim).unwrap_or_default();
    if text.is_empty() || text.eq_ignore_ascii_case("fit") {
        return Ok(None);
    }
    let (min, max) = (ZOOMS[0], ZOOMS[ZOOMS.len() - 1]);
    match text.trim_end_matches('%').parse::<u32>() {
        Ok(z) if (min..=max).contains(&z) => Ok(Some(z)),
        _ => Err(WebError::Invalid(format!(
            "zoom must be a percentage from {min} to {max}, or \"fit\"; \"{text}\" is neither"
        ))),
    }
}

/// `base` with `zoom=` added (`base` may already have a query).
fn with_zoom(base: &str, zoom: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}zoom={zoom}#diagram")
}

/// Draws a deployment's diagram with an overlay at a zoom; `None` when the
/// file has no layout. `base` is the address of the page showing it (with
/// its own query, without `zoom`), `other` the full-screen page's (or the
/// normal page's, on the full-screen one).
pub fn diagram_view(
    deployed: &Deployed,
    overlay: Overlay,
    zoom: Option<u32>,
    base: &str,
    other: &str,
    full_screen: bool,
) -> Option<DiagramView> {
    let overlay = Overlay { zoom, ..overlay };
    let drawing = svg::draw(&deployed.definitions, &overlay)?;
    Some(view(drawing, zoom, base, other, full_screen))
}

/// The view of a drawing of a file that was never deployed (an upload the
/// engine refused): no zoom links, drawn to fit.
pub fn plain_view(drawing: svg::Drawing) -> DiagramView {
    view(drawing, None, "", "", false)
}

fn view(
    drawing: svg::Drawing,
    zoom: Option<u32>,
    base: &str,
    other: &str,
    full_screen: bool,
) -> DiagramView {
    let now = zoom.unwrap_or(100);
    let smaller = ZOOMS.iter().rev().find(|z| **z < now);
    let bigger = ZOOMS.iter().find(|z| **z > now);
    let link = |z: &u32| with_zoom(base, &z.to_string());
    DiagramView {
        svg: drawing.svg,
        width: drawing.width.round().max(1.0) as u32,
        height: drawing.height.round().max(1.0) as u32,
        zoom,
        smaller: smaller.map(link),
        bigger: bigger.map(link),
        fit: with_zoom(base, "fit"),
        actual: with_zoom(base, "100"),
        other: other.to_string(),
        full_screen,
    }
}

#[derive(Deserialize)]
pub struct FullQuery {
    zoom: Option<String>,
    version: Option<i32>,
}

#[derive(Template)]
#[template(path = "diagram.html")]
struct FullScreenPage {
    layout: Layout,
    back: String,
    diagram: Option<DiagramView>,
}

/// An instance's diagram alone, with where it stands.
#[get("/instances/{id}/diagram")]
pub async fn show_instance_diagram(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    q: web::Query<FullQuery>,
) -> Result<HttpResponse, WebError> {
    let zoom = parse_zoom(q.zoom.as_deref())?;
    let detail = state
        .runtime
        .instances()
        .show(&current.principal(), *id)
        .await?;
    let back = format!("/instances/{id}");
    let here = format!("/instances/{id}/diagram");
    let mut overlay = super::instances::overlay(&detail);
    // The element links lead to the instance page's history.
    for m in overlay.marks.values_mut() {
        if let Some(h) = m.href.as_mut() {
            *h = format!("{back}{h}");
        }
    }
    let diagram = diagram_view(&detail.deployed, overlay, zoom, &here, &back, true);
    let title = format!("{} · diagram", detail.instance.process_name);
    render(&FullScreenPage {
        layout: current.layout(&state, &title, "instances").await?,
        back,
        diagram,
    })
}

/// A process's diagram alone.
#[get("/definitions/{key}/diagram")]
pub async fn show_definition_diagram(
    state: web::Data<AppState>,
    current: CurrentUser,
    key: web::Path<String>,
    q: web::Query<FullQuery>,
) -> Result<HttpResponse, WebError> {
    let zoom = parse_zoom(q.zoom.as_deref())?;
    let deployed = state
        .runtime
        .deployments()
        .get(&current.principal(), &key, q.version)
        .await?;
    let version = deployed.definition.version;
    let key = urlencode(&key);
    let back = format!("/definitions/{key}?version={version}");
    let here = format!("/definitions/{key}/diagram?version={version}");
    let diagram = diagram_view(&deployed, Overlay::default(), zoom, &here, &back, true);
    let title = format!("{} · diagram", deployed.process().display_name());
    render(&FullScreenPage {
        layout: current.layout(&state, &title, "definitions").await?,
        back,
        diagram,
    })
}
