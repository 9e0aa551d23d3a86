//! Links from user tasks and none start events to Camunda Forms:
//! `camunda:formRef` (+ `formRefBinding`, `formRefVersion`),
//! `camunda:formKey="camunda-forms:deployment:NAME"` (or `:app:`), and
//! Camunda 8's `zeebe:formDefinition` (`formId`, or `formKey` naming a
//! `zeebe:userTaskForm` embedded in the process).

use std::sync::Arc;

use super::Reader;
use crate::model::camunda;
use crate::model::camunda_form;
use crate::model::definitions::{FormBinding, FormLink};
use crate::model::xml::{Element, Ns};
use crate::model::zeebe;

impl Reader<'_> {
    /// Collects the `zeebe:userTaskForm`s of a process (by id, their JSON).
    pub(super) fn embedded_forms(&mut self, process: &Element) {
        self.user_task_forms.clear();
        for f in zeebe::extensions(process).filter(|c| c.name == "userTaskForm") {
            if let Some(id) = f.attr("id") {
                self.user_task_forms
                    .insert(id.to_string(), f.text.to_string());
            }
        }
    }

    /// The Camunda Form an element links, if any; `Err` after reporting a
    /// link that cannot work.
    pub(super) fn form_link(&mut self, el: &Element) -> Result<Option<FormLink>, ()> {
        if let Some(id) = el.attr_ns(Ns::Camunda, "formRef") {
            if id.contains("${") || id.contains("#{") {
                self.error(
                    el,
                    format!("camunda:formRef \"{id}\" is an expression; name the form's id"),
                );
                return Err(());
            }
            let binding = match el
                .attr_ns(Ns::Camunda, "formRefBinding")
                .unwrap_or("latest")
            {
                "latest" => FormBinding::Latest,
                "deployment" => FormBinding::Deployment,
                "version" => match el
                    .attr_ns(Ns::Camunda, "formRefVersion")
                    .and_then(|v| v.trim().parse::<i32>().ok())
                    .filter(|v| *v > 0)
                {
                    Some(v) => FormBinding::Version(v),
                    None => {
                        self.error(
                            el,
                            "camunda:formRefBinding=\"version\" needs camunda:formRefVersion, a whole number from 1".into(),
                        );
                        return Err(());
                    }
                },
                other => {
                    self.error(
                        el,
                        format!("camunda:formRefBinding \"{other}\" is not latest, deployment or version"),
                    );
                    return Err(());
                }
            };
            return Ok(Some(FormLink::Ref {
                id: id.to_string(),
                binding,
            }));
        }
        if let Some(key) = camunda::vendor_value(el, "formKey")
            && let Some(rest) = key.trim().strip_prefix("camunda-forms:")
        {
            return self.form_key(el, rest).map(Some);
        }
        if let Some(def) = zeebe::extension(el, "formDefinition") {
            if let Some(id) = def.attr("formId") {
                let binding = match def.attr("bindingType").unwrap_or("latest") {
                    "latest" => FormBinding::Latest,
                    "deployment" => FormBinding::Deployment,
                    other => {
                        self.error(
                            el,
                            format!("zeebe:formDefinition bindingType \"{other}\" is not supported (latest and deployment are)"),
                        );
                        return Err(());
                    }
                };
                return Ok(Some(FormLink::Ref {
                    id: id.to_string(),
                    binding,
                }));
            }
            if let Some(rest) = def
                .attr("formKey")
                .and_then(|k| k.trim().strip_prefix("camunda-forms:"))
            {
                return self.form_key(el, rest).map(Some);
            }
        }
        Ok(None)
    }

    fn form_key(&mut self, el: &Element, rest: &str) -> Result<FormLink, ()> {
        if let Some(name) = rest
            .strip_prefix("deployment:")
            .or_else(|| rest.strip_prefix("app:"))
            .filter(|n| !n.trim().is_empty())
        {
            return Ok(FormLink::Resource(name.trim().to_string()));
        }
        if let Some(id) = rest.strip_prefix("bpmn:") {
            let Some(json) = self.user_task_forms.get(id).cloned() else {
                self.error(
                    el,
                    format!("the form key \"camunda-forms:bpmn:{id}\" names no zeebe:userTaskForm of this process"),
                );
                return Err(());
            };
            return match camunda_form::parse(json.as_bytes()) {
                Ok(doc) => Ok(FormLink::Embedded(Arc::new(doc))),
                Err(problems) => {
                    for p in problems {
                        self.error(el, format!("the embedded form \"{id}\": {p}"));
                    }
                    Err(())
                }
            };
        }
        self.error(
            el,
            format!("the form key \"camunda-forms:{rest}\" is not camunda-forms:deployment:NAME, camunda-forms:app:NAME or camunda-forms:bpmn:ID"),
        );
        Err(())
    }
}
