//! From DMN XML to validated [`DmnDefinitions`], collecting every problem.

mod table;

use std::collections::{HashMap, HashSet};

use super::{Decision, DecisionLogic, DmnDefinitions, MAX_REQUIREMENT_DEPTH};
use crate::feel::{Expression, FeelError};
use crate::model::diagnostic::{Diagnostic, ParseError, Severity};
use crate::model::xml::{self, Element, Limits, LineIndex, Ns};

/// Reads and validates a DMN file. Refuses it, with every error and
/// unsupported element located, when any decision could not be evaluated
/// faithfully; warnings are returned in [`DmnDefinitions::warnings`].
pub fn parse_dmn(bytes: &[u8]) -> Result<DmnDefinitions, ParseError> {
    let limits = Limits::default();
    let text = match xml::decode_within(bytes, &limits) {
        Ok(text) => text,
        Err(e) => return Err(ParseError::xml(e, &String::from_utf8_lossy(bytes))),
    };
    let root = xml::read(&text, &limits).map_err(|e| ParseError::xml(e, &text))?;
    let mut reader = Reader {
        text: &text,
        lines: LineIndex::new(&text),
        diags: Vec::new(),
    };
    let defs = reader.definitions(&root);
    let mut diags = reader.diags;
    diags.sort_by_key(|d| (d.line, d.column));
    match defs {
        Some(mut defs) if diags.iter().all(|d| d.severity == Severity::Warning) => {
            defs.warnings = diags;
            Ok(defs)
        }
        _ => Err(ParseError { diagnostics: diags }),
    }
}

struct Reader<'a> {
    text: &'a str,
    lines: LineIndex,
    diags: Vec<Diagnostic>,
}

/// Children of `decision` that carry no logic and are ignored.
const DECISION_IGNORED: &[&str] = &[
    "description",
    "extensionElements",
    "variable",
    "question",
    "allowedAnswers",
    "authorityRequirement",
    "supportedObjective",
    "impactedPerformanceIndicator",
    "decisionMaker",
    "decisionOwner",
    "usingProcess",
    "usingTask",
];

/// Children of `definitions` that are ignored.
const DEFINITIONS_IGNORED: &[&str] = &[
    "description",
    "extensionElements",
    "inputData",
    "itemDefinition",
    "knowledgeSource",
    "businessKnowledgeModel",
    "textAnnotation",
    "association",
    "group",
    "elementCollection",
    "performanceIndicator",
    "organizationUnit",
    "businessContextElement",
];

/// Boxed expressions other than decision tables and literal expressions.
const BOXED: &[&str] = &[
    "context",
    "invocation",
    "relation",
    "list",
    "functionDefinition",
    "conditional",
    "filter",
    "for",
    "every",
    "some",
];

impl Reader<'_> {
    fn push(&mut self, severity: Severity, at: &Element, owner: &Element, message: String) {
        let position = self.lines.position(self.text, at.offset);
        self.diags
            .push(Diagnostic::about(severity, position, owner, message));
    }

    fn error(&mut self, at: &Element, message: String) {
        self.push(Severity::Error, at, at, message);
    }

    fn unsupported(&mut self, at: &Element, message: String) {
        self.push(Severity::Unsupported, at, at, message);
    }

    fn definitions(&mut self, root: &Element) -> Option<DmnDefinitions> {
        if !root.is(Ns::Dmn, "definitions") {
            let message = if root.name == "definitions" {
                "the root <definitions> is not in a DMN namespace (DMN 1.1 to 1.5 are read)"
                    .to_string()
            } else {
                format!("not a DMN file: the root element is <{}>", root.name)
            };
            self.error(root, message);
            return None;
        }
        self.check_ids(root, &mut HashSet::new());
        let language = root.attr("expressionLanguage");
        let mut decisions = Vec::new();
        let mut sites: HashMap<String, Vec<(String, usize)>> = HashMap::new();
        for child in &root.children {
            if child.ns != Ns::Dmn {
                continue;
            }
            match child.name {
                "decision" => {
                    if let Some((d, reqs)) = self.decision(child, language) {
                        sites.insert(d.id.clone(), reqs);
                        decisions.push(d);
                    }
                }
                "decisionService" => self.push(
                    Severity::Warning,
                    child,
                    child,
                    "decision services are ignored; call the decisions directly".into(),
                ),
                "import" => self.unsupported(child, "imported models are not supported".into()),
                n if DEFINITIONS_IGNORED.contains(&n) => {}
                n => self.push(
                    Severity::Warning,
                    child,
                    child,
                    format!("<{n}> is not a DMN element this engine knows; it is ignored"),
                ),
            }
        }
        if root.children_named(Ns::Dmn, "decision").next().is_none() {
            self.push(
                Severity::Warning,
                root,
                root,
                "the file has no decision to evaluate".into(),
            );
        }
        self.check_requirements(root, &decisions, &sites);
        Some(DmnDefinitions {
            id: root.id().map(str::to_string),
            name: root.attr("name").map(str::to_string),
            decisions,
            warnings: Vec::new(),
        })
    }

    fn check_ids<'e>(&mut self, el: &'e Element<'e>, seen: &mut HashSet<&'e str>) {
        if el.ns == Ns::Dmn
            && let Some(id) = el.id()
            && !seen.insert(id)
        {
            self.error(el, format!("the id \"{id}\" is used more than once"));
        }
        for c in &el.children {
            self.check_ids(c, seen);
        }
    }

    /// Missing required decisions and requirement cycles.
    fn check_requirements(
        &mut self,
        root: &Element,
        decisions: &[Decision],
        sites: &HashMap<String, Vec<(String, usize)>>,
    ) {
        // Decisions refused for other reasons still exist: no second error for them.
        let known: HashSet<&str> = root
            .children_named(Ns::Dmn, "decision")
            .filter_map(|d| d.id())
            .collect();
        let find = |offset: usize| find_at(root, offset);
        for d in decisions {
            for (req, offset) in sites.get(&d.id).into_iter().flatten() {
                if !known.contains(req.as_str())
                    && let Some(at) = find(*offset)
                    && let Some(owner) = find_decision(root, &d.id)
                {
                    self.push(
                        Severity::Error,
                        at,
                        owner,
                        format!("requires the decision \"{req}\", which is not in this file"),
                    );
                }
            }
        }
        // Depth-first search; each cycle is reported once, at the decision closing it.
        let by_id: HashMap<&str, &Decision> =
            decisions.iter().map(|d| (d.id.as_str(), d)).collect();
        let mut state: HashMap<&str, u8> = HashMap::new();
        for d in decisions {
            let mut path = Vec::new();
            if !self.visit(root, d, &by_id, &mut state, &mut path) {
                break;
            }
        }
    }

    fn visit<'d>(
        &mut self,
        root: &Element,
        d: &'d Decision,
        by_id: &HashMap<&str, &'d Decision>,
        state: &mut HashMap<&'d str, u8>,
        path: &mut Vec<&'d str>,
    ) -> bool {
        match state.get(d.id.as_str()) {
            Some(2) => return true,
            Some(1) => {
                let start = path.iter().position(|p| *p == d.id).unwrap_or(0);
                let mut cycle: Vec<&str> = path[start..].to_vec();
                cycle.push(&d.id);
                if let Some(el) = find_decision(root, &d.id) {
                    self.error(
                        el,
                        format!("required decisions form a cycle: {}", cycle.join(" -> ")),
                    );
                }
                return true;
            }
            _ => {}
        }
        if path.len() >= MAX_REQUIREMENT_DEPTH {
            if let Some(el) = find_decision(root, &d.id) {
                self.error(
                    el,
                    format!(
                        "required decisions are chained more than {MAX_REQUIREMENT_DEPTH} deep"
                    ),
                );
            }
            return false;
        }
        state.insert(&d.id, 1);
        path.push(&d.id);
        for r in &d.required {
            if let Some(next) = by_id.get(r.as_str())
                && !self.visit(root, next, by_id, state, path)
            {
                return false;
            }
        }
        path.pop();
        state.insert(&d.id, 2);
        true
    }

    /// A decision and the (id, offset) of each required decision reference.
    fn decision(
        &mut self,
        el: &Element,
        language: Option<&str>,
    ) -> Option<(Decision, Vec<(String, usize)>)> {
        let Some(id) = el.id() else {
            self.error(el, "a decision needs an id".into());
            return None;
        };
        let mut reqs = Vec::new();
        let mut logic = None;
        let mut found_logic = false;
        for child in &el.children {
            if child.ns != Ns::Dmn {
                continue;
            }
            match child.name {
                "informationRequirement" => {
                    for r in child.children_named(Ns::Dmn, "requiredDecision") {
                        self.requirement(el, r, &mut reqs);
                    }
                }
                "requiredDecision" => self.requirement(el, child, &mut reqs),
                "knowledgeRequirement" => {
                    let bkm = child
                        .child(Ns::Dmn, "requiredKnowledge")
                        .and_then(|r| r.attr("href"))
                        .unwrap_or("?");
                    self.push(
                        Severity::Unsupported,
                        child,
                        el,
                        format!(
                            "invokes the business knowledge model \"{}\"; business knowledge models are not supported",
                            bkm.trim_start_matches('#')
                        ),
                    );
                }
                "decisionTable" | "literalExpression" if found_logic => {
                    self.error(child, "a decision has only one decision logic".into());
                }
                "decisionTable" => {
                    found_logic = true;
                    logic = self.table(child, id, language).map(DecisionLogic::Table);
                }
                "literalExpression" => {
                    found_logic = true;
                    let variable = el
                        .child(Ns::Dmn, "variable")
                        .and_then(|v| v.attr("name"))
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or(id);
                    logic = self.literal(child, el, variable, language);
                }
                n if BOXED.contains(&n) => {
                    found_logic = true;
                    self.push(
                        Severity::Unsupported,
                        child,
                        el,
                        format!(
                            "boxed <{n}> expressions are not supported (only decision tables and literal expressions)"
                        ),
                    );
                }
                n if DECISION_IGNORED.contains(&n) => {}
                n => self.push(
                    Severity::Unsupported,
                    child,
                    el,
                    format!("<{n}> in a decision is not supported"),
                ),
            }
        }
        if !found_logic {
            self.push(
                Severity::Unsupported,
                el,
                el,
                "the decision has no decision table or literal expression to evaluate".into(),
            );
        }
        let decision = Decision {
            id: id.to_string(),
            name: el.attr("name").map(str::to_string),
            version_tag: el
                .attr_ns(Ns::CamundaDmn, "versionTag")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            required: reqs.iter().map(|(r, _)| r.clone()).collect(),
            logic: logic?,
        };
        Some((decision, reqs))
    }

    fn requirement(&mut self, decision: &Element, r: &Element, reqs: &mut Vec<(String, usize)>) {
        match r.attr("href").map(str::trim) {
            Some(href) if href.starts_with('#') && href.len() > 1 => {
                reqs.push((href[1..].to_string(), r.offset));
            }
            Some(href) if href.contains('#') => self.push(
                Severity::Unsupported,
                r,
                decision,
                format!("requires \"{href}\" from another model; imports are not supported"),
            ),
            _ => self.push(
                Severity::Error,
                r,
                decision,
                "<requiredDecision> needs href=\"#decisionId\"".into(),
            ),
        }
    }

    /// Refuses an element whose expression language is not FEEL.
    fn check_language(&mut self, el: &Element, inherited: Option<&str>) -> bool {
        let Some(lang) = el.attr("expressionLanguage").or(inherited) else {
            return true;
        };
        if lang.to_ascii_lowercase().contains("feel") {
            return true;
        }
        self.unsupported(
            el,
            format!("the expression language \"{lang}\" is not supported (only FEEL)"),
        );
        false
    }

    /// The `<text>` of an expression element, trimmed.
    fn text_of(el: &Element) -> String {
        el.child(Ns::Dmn, "text")
            .map(|t| t.text.trim().to_string())
            .unwrap_or_default()
    }

    fn feel_error(&mut self, at: &Element, owner: &Element, what: &str, e: &FeelError) {
        let column = e
            .column
            .map(|c| format!(" (column {c} of the text)"))
            .unwrap_or_default();
        self.push(
            Severity::Error,
            at,
            owner,
            format!("{what}: {}{column} in `{}`", e.message, e.text),
        );
    }

    fn literal(
        &mut self,
        el: &Element,
        decision: &Element,
        variable: &str,
        language: Option<&str>,
    ) -> Option<DecisionLogic> {
        if !self.check_language(el, language) {
            return None;
        }
        if el.child(Ns::Dmn, "importedValues").is_some() {
            self.unsupported(el, "imported values are not supported".into());
            return None;
        }
        let text = Self::text_of(el);
        if text.is_empty() {
            self.push(
                Severity::Error,
                el,
                decision,
                "the literal expression is empty".into(),
            );
            return None;
        }
        match Expression::parse(&text) {
            Ok(compiled) => Some(DecisionLogic::Literal {
                expression: text,
                variable: variable.to_string(),
                type_ref: el.attr("typeRef").map(str::to_string),
                compiled,
            }),
            Err(e) => {
                self.feel_error(el, decision, "invalid literal expression", &e);
                None
            }
        }
    }
}

/// The element starting at `offset`.
fn find_at<'t, 'a>(el: &'t Element<'a>, offset: usize) -> Option<&'t Element<'a>> {
    if el.offset == offset {
        return Some(el);
    }
    el.children.iter().find_map(|c| find_at(c, offset))
}

fn find_decision<'t, 'a>(root: &'t Element<'a>, id: &str) -> Option<&'t Element<'a>> {
    root.children
        .iter()
        .find(|c| c.is(Ns::Dmn, "decision") && c.id() == Some(id))
}
