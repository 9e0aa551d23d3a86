//! Loops of activities: `standardLoopCharacteristics` and
//! `multiInstanceLoopCharacteristics` (with Camunda 7 attributes or Camunda 8
//! `zeebe:loopCharacteristics`), and which elements may have them.

use super::data::{Way, own_variable};
use super::{Reader, flag};
use crate::model::camunda;
use crate::model::definitions::*;
use crate::model::diagnostic::Severity;
use crate::model::expr::Expr;
use crate::model::xml::{Element, Ns};
use crate::model::zeebe;

/// The standard loop and the multi-instance characteristics of an activity
/// (both are read; `loops_fit` refuses an activity with both).
type Loops = (Option<Box<StandardLoop>>, Option<Box<MultiInstance>>);

impl Reader<'_> {
    /// The loop characteristics of an activity, standard or multi-instance;
    /// `None` when one is refused (both are read, so both report).
    pub(super) fn loop_characteristics(&mut self, el: &Element) -> Option<Loops> {
        let mut ok = true;
        let standard_loop = match el.child(Ns::Bpmn, "standardLoopCharacteristics") {
            None => None,
            Some(l) => match self.standard_loop(el, l) {
                Some(s) => Some(Box::new(s)),
                None => {
                    ok = false;
                    None
                }
            },
        };
        let multi = match el.child(Ns::Bpmn, "multiInstanceLoopCharacteristics") {
            None => None,
            Some(mi) => match self.multi_instance(el, mi) {
                Some(m) => Some(Box::new(m)),
                None => {
                    ok = false;
                    None
                }
            },
        };
        ok.then_some((standard_loop, multi))
    }

    /// Whether the loop characteristics of `node` (read from `el`) fit it:
    /// only activities loop, and in one way only.
    pub(super) fn loops_fit(&mut self, el: &Element, node: &Node) -> bool {
        if node.loops() && !node.is_activity() {
            self.error(
                el,
                "only tasks and subprocesses can be multi-instance or loop".into(),
            );
            return false;
        }
        if node.multi.is_some() && node.standard_loop.is_some() {
            self.error(
                el,
                "an activity is either multi-instance or a standard loop, not both".into(),
            );
            return false;
        }
        true
    }

    /// `standardLoopCharacteristics`: condition, test before, maximum.
    fn standard_loop(&mut self, owner: &Element, l: &Element) -> Option<StandardLoop> {
        let condition = match l
            .child(Ns::Bpmn, "loopCondition")
            .map(|c| (c, c.text.trim().to_string()))
            .filter(|(_, t)| !t.is_empty())
        {
            None => None,
            Some((c, _)) => Some(self.formal_condition(c, owner, "loopCondition")?),
        };
        let maximum = match l
            .attr("loopMaximum")
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            None => None,
            Some(m) => match m.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.push_for(
                        Severity::Error,
                        l,
                        owner,
                        format!("loopMaximum \"{m}\" is not a whole number"),
                    );
                    return None;
                }
            },
        };
        if condition.is_none() && maximum.is_none() {
            self.push_for(
                Severity::Error,
                l,
                owner,
                "a standard loop needs a loopCondition or a loopMaximum, or it never ends".into(),
            );
            return None;
        }
        Some(StandardLoop {
            condition,
            test_before: flag(l.attr("testBefore")),
            maximum,
        })
    }

    /// `multiInstanceLoopCharacteristics`: cardinality or collection, element
    /// variable, completion condition and collected output (Camunda 7
    /// attributes, Camunda 8 `zeebe:loopCharacteristics`, or the standard's
    /// `loopDataInputRef` / `inputDataItem` / `loopDataOutputRef` /
    /// `outputDataItem`, resolved as `data` says).
    fn multi_instance(&mut self, owner: &Element, mi: &Element) -> Option<MultiInstance> {
        let mut ok = true;
        let mut expr =
            |this: &mut Self, at: &Element, text: &str, what: &str| match Expr::compile(text) {
                Ok(e) => Some(e),
                Err(e) => {
                    this.push_for(Severity::Error, at, owner, format!("{what}: {e}"));
                    ok = false;
                    None
                }
            };
        let child_text = |name: &str| {
            mi.child(Ns::Bpmn, name)
                .map(|c| (c, c.text.trim().to_string()))
                .filter(|(_, t)| !t.is_empty())
        };
        let cardinality = match child_text("loopCardinality") {
            Some((c, t)) => expr(self, c, &t, "loopCardinality"),
            None => None,
        };
        let completion = match child_text("completionCondition") {
            Some((c, _)) => self.formal_condition(c, owner, "completionCondition"),
            None => None,
        };
        // Camunda 8 puts these in `zeebe:loopCharacteristics`.
        let zl = zeebe::extension(mi, "loopCharacteristics");
        let zattr = |name: &str| {
            zl.and_then(|z| z.attr(name))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let collection = match camunda::vendor_attr(mi, "collection")
            .map(|(c, p)| (c.trim(), p))
            .filter(|(c, _)| !c.is_empty())
        {
            Some((t, prefix)) => expr(self, mi, t, &format!("{prefix}:collection")),
            None => match zattr("inputCollection") {
                Some(t) => expr(self, mi, t, "zeebe:loopCharacteristics inputCollection"),
                None => None,
            },
        };
        let element_variable = camunda::vendor_value(mi, "elementVariable")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .or(zattr("inputElement"))
            .map(str::to_string);
        let output = match (zattr("outputCollection"), zattr("outputElement")) {
            (Some(c), Some(e)) => expr(self, mi, e, "zeebe:loopCharacteristics outputElement")
                .map(|e| (c.to_string(), e)),
            (Some(_), None) | (None, Some(_)) => {
                self.push_for(
                    Severity::Error,
                    mi,
                    owner,
                    "zeebe:loopCharacteristics needs both outputCollection and outputElement"
                        .into(),
                );
                return None;
            }
            (None, None) => None,
        };
        let mut bad = false;
        // The BPMN standard's own data: `loopDataInputRef` names the
        // collection, `inputDataItem` the element variable, and
        // `loopDataOutputRef` / `outputDataItem` what each instance gives back.
        let collection = match (collection, child_text("loopDataInputRef")) {
            (Some(c), _) => Some(c),
            (None, None) => None,
            (None, Some((r, t))) if t.contains("${") || t.contains("#{") => {
                expr(self, r, &t, "loopDataInputRef")
            }
            (None, Some((r, t))) => match self.data_variable(owner, &t, Way::In) {
                Ok(v) => expr(self, r, &format!("${{{v}}}"), "loopDataInputRef"),
                Err(e) => {
                    self.push_for(Severity::Error, r, owner, format!("loopDataInputRef: {e}"));
                    bad = true;
                    None
                }
            },
        };
        let item_variable = |this: &mut Self, name: &str| -> Option<String> {
            let item = mi.child(Ns::Bpmn, name)?;
            let v = own_variable(item);
            if v.is_none() {
                this.push_for(
                    Severity::Error,
                    item,
                    owner,
                    format!("{name} needs a name or id that can name a variable"),
                );
            }
            v
        };
        let element_variable = match element_variable {
            Some(v) => Some(v),
            None => {
                let v = item_variable(self, "inputDataItem");
                if v.is_none() && mi.child(Ns::Bpmn, "inputDataItem").is_some() {
                    bad = true;
                }
                v
            }
        };
        let output_ref = child_text("loopDataOutputRef");
        let output_item = item_variable(self, "outputDataItem");
        let mut output = output;
        let mut output_local = None;
        match (output_ref, mi.child(Ns::Bpmn, "outputDataItem")) {
            (None, None) => {}
            (Some((r, t)), Some(_)) => match (self.data_variable(owner, &t, Way::Out), output_item)
            {
                (Ok(list), Some(item)) if output.is_none() => {
                    output =
                        expr(self, r, &format!("${{{item}}}"), "outputDataItem").map(|e| (list, e));
                    output_local = Some(item);
                }
                (Ok(_), Some(_)) => {
                    self.push_for(
                        Severity::Error,
                        r,
                        owner,
                        "loopDataOutputRef and zeebe:loopCharacteristics outputCollection both collect the output; keep one".into(),
                    );
                    bad = true;
                }
                (Err(e), _) => {
                    self.push_for(Severity::Error, r, owner, format!("loopDataOutputRef: {e}"));
                    bad = true;
                }
                (Ok(_), None) => bad = true,
            },
            (Some((r, _)), None) => {
                self.push_for(
                    Severity::Error,
                    r,
                    owner,
                    "loopDataOutputRef needs an outputDataItem: the variable each instance gives back".into(),
                );
                bad = true;
            }
            (None, Some(item)) => {
                self.push_for(
                    Severity::Error,
                    item,
                    owner,
                    "outputDataItem needs a loopDataOutputRef: the list its values are collected in".into(),
                );
                bad = true;
            }
        }
        if !ok || bad {
            return None;
        }
        if cardinality.is_none() && collection.is_none() {
            self.push_for(
                Severity::Error,
                mi,
                owner,
                "a multi-instance activity needs a loopCardinality, a loopDataInputRef or a camunda:collection".into(),
            );
            return None;
        }
        Some(MultiInstance {
            sequential: flag(mi.attr("isSequential")),
            cardinality,
            collection,
            element_variable,
            completion,
            output,
            output_item: output_local,
        })
    }
}

/// The loop marker an activity is drawn with.
pub(super) fn loop_kind(el: &Element) -> Option<LoopKind> {
    if el.child(Ns::Bpmn, "standardLoopCharacteristics").is_some() {
        return Some(LoopKind::Standard);
    }
    let mi = el.child(Ns::Bpmn, "multiInstanceLoopCharacteristics")?;
    Some(if flag(mi.attr("isSequential")) {
        LoopKind::Sequential
    } else {
        LoopKind::Parallel
    })
}
