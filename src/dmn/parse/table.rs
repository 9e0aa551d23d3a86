//! Reading decision tables: hit policy, inputs, outputs and rules.

use std::collections::HashSet;

use serde_json::Value;

use super::super::{Aggregation, DecisionTable, HitPolicy, Input, Output, Rule};
use super::Reader;
use crate::feel::{DEFAULT_INPUT_VARIABLE, Expression, UnaryTests};
use crate::model::diagnostic::Severity;
use crate::model::xml::{Element, Ns};

impl Reader<'_> {
    pub(super) fn table(
        &mut self,
        el: &Element,
        decision_id: &str,
        language: Option<&str>,
    ) -> Option<DecisionTable> {
        let language = el.attr("expressionLanguage").or(language);
        let mut ok = self.check_language(el, language);
        let hit_policy = match el.attr("hitPolicy").map(str::trim) {
            None | Some("UNIQUE") => HitPolicy::Unique,
            Some("FIRST") => HitPolicy::First,
            Some("PRIORITY") => HitPolicy::Priority,
            Some("ANY") => HitPolicy::Any,
            Some("COLLECT") => HitPolicy::Collect,
            Some("RULE ORDER") => HitPolicy::RuleOrder,
            Some("OUTPUT ORDER") => HitPolicy::OutputOrder,
            Some(other) => {
                self.error(
                    el,
                    format!(
                        "unknown hit policy \"{other}\" (expected UNIQUE, FIRST, PRIORITY, ANY, COLLECT, RULE ORDER or OUTPUT ORDER)"
                    ),
                );
                ok = false;
                HitPolicy::Unique
            }
        };
        let aggregation = match el.attr("aggregation").map(str::trim) {
            None => None,
            Some("SUM") => Some(Aggregation::Sum),
            Some("MIN") => Some(Aggregation::Min),
            Some("MAX") => Some(Aggregation::Max),
            Some("COUNT") => Some(Aggregation::Count),
            Some(other) => {
                self.error(
                    el,
                    format!("unknown aggregation \"{other}\" (expected SUM, MIN, MAX or COUNT)"),
                );
                ok = false;
                None
            }
        };
        if aggregation.is_some() && hit_policy != HitPolicy::Collect {
            self.error(el, "an aggregation needs the hit policy COLLECT".into());
            ok = false;
        }
        let mut inputs = Vec::new();
        let n_inputs = el.children_named(Ns::Dmn, "input").count();
        let n_outputs = el.children_named(Ns::Dmn, "output").count();
        let mut outputs = Vec::new();
        let mut rule_els = Vec::new();
        for child in &el.children {
            if child.ns != Ns::Dmn {
                continue;
            }
            match child.name {
                "input" => match self.input(child, language) {
                    Some(i) => inputs.push(i),
                    None => ok = false,
                },
                "output" => match self.output(child) {
                    Some(o) => outputs.push(o),
                    None => ok = false,
                },
                "rule" => rule_els.push(child),
                "annotation" | "description" | "extensionElements" => {}
                n => {
                    self.unsupported(child, format!("<{n}> in a decision table is not supported"));
                    ok = false;
                }
            }
        }
        ok &= self.check_outputs(el, decision_id, hit_policy, aggregation, &mut outputs);
        let mut rules = Vec::new();
        for (i, r) in rule_els.iter().enumerate() {
            match self.rule(r, i, n_inputs, n_outputs, language) {
                Some(rule) => rules.push(rule),
                None => ok = false,
            }
        }
        ok.then_some(DecisionTable {
            hit_policy,
            aggregation,
            inputs,
            outputs,
            rules,
        })
    }

    /// Output names (the decision id for a single unnamed output), their
    /// uniqueness, and what the hit policy needs of them.
    fn check_outputs(
        &mut self,
        el: &Element,
        decision_id: &str,
        hit_policy: HitPolicy,
        aggregation: Option<Aggregation>,
        outputs: &mut [Output],
    ) -> bool {
        let mut ok = true;
        if outputs.is_empty() {
            if el.children_named(Ns::Dmn, "output").next().is_none() {
                self.error(el, "a decision table needs at least one output".into());
            }
            return false;
        }
        if outputs.len() == 1 && outputs[0].name.is_empty() {
            outputs[0].name = decision_id.to_string();
        }
        let mut names = HashSet::new();
        for o in outputs.iter() {
            if o.name.is_empty() {
                self.error(
                    el,
                    format!(
                        "output {} needs a name: the table has several outputs",
                        o.id.as_deref().unwrap_or("?")
                    ),
                );
                ok = false;
            } else if !names.insert(o.name.clone()) {
                self.error(el, format!("two outputs are named \"{}\"", o.name));
                ok = false;
            }
        }
        if aggregation.is_some() && outputs.len() > 1 {
            self.error(
                el,
                "an aggregation needs a table with a single output".into(),
            );
            ok = false;
        }
        if matches!(hit_policy, HitPolicy::Priority | HitPolicy::OutputOrder)
            && outputs.iter().all(|o| o.values.is_empty())
        {
            self.error(
                el,
                "hit policies PRIORITY and OUTPUT ORDER need <outputValues> on an output, to give the order".into(),
            );
            ok = false;
        }
        ok
    }

    fn input(&mut self, el: &Element, language: Option<&str>) -> Option<Input> {
        let Some(expr) = el.child(Ns::Dmn, "inputExpression") else {
            self.error(el, "an input needs an <inputExpression>".into());
            return None;
        };
        if !self.check_language(expr, language) {
            return None;
        }
        let text = Self::text_of(expr);
        if text.is_empty() {
            self.push(
                Severity::Error,
                expr,
                el,
                "the input expression is empty (give the variable or FEEL expression whose value the rules test)".into(),
            );
            return None;
        }
        let expression = match Expression::parse(&text) {
            Ok(e) => e,
            Err(e) => {
                self.feel_error(expr, el, "invalid input expression", &e);
                return None;
            }
        };
        Some(Input {
            id: el.id().map(str::to_string),
            label: el.attr("label").map(str::to_string),
            expression_text: text,
            type_ref: expr.attr("typeRef").map(str::to_string),
            input_variable: el
                .attr_ns(Ns::CamundaDmn, "inputVariable")
                .filter(|v| !v.trim().is_empty())
                .unwrap_or(DEFAULT_INPUT_VARIABLE)
                .to_string(),
            expression,
        })
    }

    fn output(&mut self, el: &Element) -> Option<Output> {
        if let Some(d) = el.child(Ns::Dmn, "defaultOutputEntry") {
            self.unsupported(d, "default output entries are not supported".into());
            return None;
        }
        let mut values = Vec::new();
        if let Some(v) = el.child(Ns::Dmn, "outputValues") {
            let text = Self::text_of(v);
            if !text.is_empty() {
                let parsed = Expression::parse(&format!("[{text}]"))
                    .and_then(|e| e.eval(&serde_json::Map::new()));
                match parsed {
                    Ok(Value::Array(list)) => values = list,
                    Ok(_) => {}
                    Err(e) => {
                        self.push(
                            Severity::Error,
                            v,
                            el,
                            format!(
                                "the output values `{text}` are not a list of FEEL values: {}",
                                e.message
                            ),
                        );
                        return None;
                    }
                }
            }
        }
        Some(Output {
            id: el.id().map(str::to_string),
            name: el.attr("name").map(str::trim).unwrap_or("").to_string(),
            label: el.attr("label").map(str::to_string),
            type_ref: el.attr("typeRef").map(str::to_string),
            values,
        })
    }

    fn rule(
        &mut self,
        el: &Element,
        index: usize,
        n_inputs: usize,
        n_outputs: usize,
        language: Option<&str>,
    ) -> Option<Rule> {
        let entries: Vec<&Element> = el.children_named(Ns::Dmn, "inputEntry").collect();
        let outs: Vec<&Element> = el.children_named(Ns::Dmn, "outputEntry").collect();
        let mut ok = true;
        if entries.len() != n_inputs {
            self.error(
                el,
                format!(
                    "the rule has {} input entries for {n_inputs} inputs",
                    entries.len()
                ),
            );
            ok = false;
        }
        if outs.len() != n_outputs {
            self.error(
                el,
                format!(
                    "the rule has {} output entries for {n_outputs} outputs",
                    outs.len()
                ),
            );
            ok = false;
        }
        let mut tests = Vec::new();
        let mut input_texts = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let text = Self::text_of(entry);
            if !self.check_language(entry, language) {
                ok = false;
            } else {
                match UnaryTests::parse(&text) {
                    Ok(t) => tests.push(t),
                    Err(e) => {
                        let what = format!("invalid input entry for input {}", i + 1);
                        self.feel_error(entry, entry, &what, &e);
                        ok = false;
                    }
                }
            }
            input_texts.push(text);
        }
        let mut outputs = Vec::new();
        let mut output_texts = Vec::new();
        for (i, entry) in outs.iter().enumerate() {
            let text = Self::text_of(entry);
            if text.is_empty() {
                outputs.push(None);
            } else if !self.check_language(entry, language) {
                ok = false;
            } else {
                match Expression::parse(&text) {
                    Ok(e) => outputs.push(Some(e)),
                    Err(e) => {
                        let what = format!("invalid output entry for output {}", i + 1);
                        self.feel_error(entry, entry, &what, &e);
                        ok = false;
                    }
                }
            }
            output_texts.push(text);
        }
        let description = el
            .child(Ns::Dmn, "description")
            .map(|d| d.text.trim().to_string())
            .filter(|d| !d.is_empty());
        ok.then(|| Rule {
            id: el
                .id()
                .map_or_else(|| format!("rule {}", index + 1), str::to_string),
            description,
            input_texts,
            output_texts,
            tests,
            outputs,
        })
    }
}
