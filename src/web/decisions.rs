//! A deployed decision's page: its table (or literal expression), its
//! required decisions and its versions.

use actix_web::{HttpResponse, get, web};
use askama::Template;

use super::AppState;
use super::auth::CurrentUser;
use super::definitions::VersionQuery;
use super::error::WebError;
use super::render::{Layout, render};
use crate::dmn::{Decision, DecisionLogic};
use crate::runtime::DecisionVersion;

/// A decision as the page shows it.
pub struct DecisionView {
    pub id: String,
    pub name: String,
    pub required: Vec<String>,
    /// `UNIQUE`, `COLLECT SUM`...; empty for a literal expression.
    pub hit_policy: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub rules: Vec<RuleView>,
    /// The FEEL expression of a literal expression decision.
    pub literal: Option<String>,
}

pub struct RuleView {
    pub id: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub description: String,
}

fn upper(v: impl serde::Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s.to_uppercase(),
        _ => String::new(),
    }
}

fn view(d: &Decision) -> DecisionView {
    let mut v = DecisionView {
        id: d.id.clone(),
        name: d.name.clone().unwrap_or_else(|| d.id.clone()),
        required: d.required.clone(),
        hit_policy: String::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        rules: Vec::new(),
        literal: None,
    };
    match &d.logic {
        DecisionLogic::Table(t) => {
            v.hit_policy = match t.aggregation {
                Some(a) => format!("{} {}", upper(t.hit_policy), upper(a)),
                None => upper(t.hit_policy),
            };
            v.inputs = t
                .inputs
                .iter()
                .map(|i| i.label.clone().unwrap_or_else(|| i.expression_text.clone()))
                .collect();
            v.outputs = t
                .outputs
                .iter()
                .map(|o| o.label.clone().unwrap_or_else(|| o.name.clone()))
                .collect();
            v.rules = t
                .rules
                .iter()
                .map(|r| RuleView {
                    id: r.id.clone(),
                    inputs: r.input_texts.iter().map(|s| dash(s)).collect(),
                    outputs: r.output_texts.clone(),
                    description: r.description.clone().unwrap_or_default(),
                })
                .collect();
        }
        DecisionLogic::Literal { expression, .. } => v.literal = Some(expression.clone()),
    }
    v
}

/// An empty input entry matches anything, like `-`.
fn dash(s: &str) -> String {
    if s.trim().is_empty() {
        "-".into()
    } else {
        s.to_string()
    }
}

#[derive(Template)]
#[template(path = "decisions/show.html")]
struct DecisionPage {
    layout: Layout,
    key: String,
    current: DecisionVersion,
    versions: Vec<DecisionVersion>,
    decision: DecisionView,
    /// The other decisions of the same file (its requirements among them).
    others: Vec<DecisionView>,
}

#[get("/decisions/{key}")]
pub async fn show_decision(
    state: web::Data<AppState>,
    current: CurrentUser,
    key: web::Path<String>,
    q: web::Query<VersionQuery>,
) -> Result<HttpResponse, WebError> {
    let who = current.principal();
    let versions = state
        .runtime
        .deployments()
        .decision_versions(&who, &key)
        .await?;
    let chosen = match q.version {
        Some(v) => versions.iter().find(|d| d.version == v),
        None => versions.first(),
    }
    .cloned()
    .ok_or(WebError::NotFound)?;
    let deployed = state
        .runtime
        .deployments()
        .decision(&who, &key, Some(chosen.version))
        .await?;
    let decision = deployed
        .dmn
        .decision(&key)
        .map(view)
        .ok_or(WebError::NotFound)?;
    let others = deployed
        .dmn
        .decisions
        .iter()
        .filter(|d| d.id != *key)
        .map(view)
        .collect();
    render(&DecisionPage {
        layout: current
            .layout(&state, &decision.name.clone(), "definitions")
            .await?,
        key: key.to_string(),
        current: chosen,
        versions,
        decision,
        others,
    })
}
