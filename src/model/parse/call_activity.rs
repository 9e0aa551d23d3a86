//! Call activities (`callActivity`): the process they call (Camunda 7
//! `calledElement` or Camunda 8 `zeebe:calledElement`), its version binding
//! and the `camunda:in`/`camunda:out` mappings. The binding is shared with
//! business rule tasks, which bind a decision the same way.

use super::Reader;
use crate::model::camunda;
use crate::model::definitions::*;
use crate::model::expr::Template;
use crate::model::xml::{Element, Ns};
use crate::model::zeebe;

impl Reader<'_> {
    pub(super) fn call_activity(&mut self, el: &Element) -> Option<NodeKind> {
        self.called_element(el)
            .map(|c| NodeKind::CallActivity(Box::new(c)))
    }

    fn called_element(&mut self, el: &Element) -> Option<CallActivity> {
        if let Some(c) = zeebe::called_element(self, el)? {
            return Some(c);
        }
        for attr in [
            "variableMappingClass",
            "variableMappingDelegateExpression",
            "caseRef",
        ] {
            if el.attr_ns(Ns::Camunda, attr).is_some() {
                self.unsupported(el, format!("camunda:{attr} is not supported"));
                return None;
            }
        }
        let Some(called) = el
            .attr("calledElement")
            .map(str::trim)
            .filter(|c| !c.is_empty())
        else {
            self.error(
                el,
                "a call activity needs calledElement (the key of the process to call)".into(),
            );
            return None;
        };
        let called = match Template::parse(called) {
            Ok(t) => t,
            Err(e) => {
                self.error(el, format!("calledElement: {e}"));
                return None;
            }
        };
        let binding = self.binding(el, "calledElement")?;
        let (inputs, outputs, business_key) = camunda::call_mappings(self, el)?;
        Some(CallActivity {
            called,
            binding,
            inputs,
            outputs,
            business_key,
        })
    }

    /// `camunda:{prefix}Binding` with its version or version tag.
    pub(super) fn binding(&mut self, el: &Element, prefix: &str) -> Option<CallBinding> {
        let attr = format!("{prefix}Binding");
        match el
            .attr_ns(Ns::Camunda, &attr)
            .map(str::trim)
            .unwrap_or("latest")
        {
            "latest" => Some(CallBinding::Latest),
            "deployment" => Some(CallBinding::Deployment),
            b @ ("version" | "versionTag") => {
                let needed = if b == "version" {
                    format!("{prefix}Version")
                } else {
                    format!("{prefix}VersionTag")
                };
                match self.opt_template(el, &needed) {
                    Ok(Some(t)) if b == "version" => Some(CallBinding::Version(t)),
                    Ok(Some(t)) => Some(CallBinding::VersionTag(t)),
                    Ok(None) => {
                        self.error(el, format!("{attr}=\"{b}\" needs camunda:{needed}"));
                        None
                    }
                    Err(()) => None,
                }
            }
            other => {
                self.error(
                    el,
                    format!(
                        "camunda:{attr} \"{other}\" is not one of latest, deployment, version, versionTag"
                    ),
                );
                None
            }
        }
    }
}
