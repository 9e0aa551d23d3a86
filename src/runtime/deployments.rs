//! Deployments: uploading BPMN and DMN files, the definitions and decisions
//! they made (lists, versions, files), starting instances, and evaluating
//! decisions.
//!
//! A file deploys each runnable process as a new version of its key, unless
//! the latest version has exactly this content (then nothing changes).

use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::policy::{Action, Principal};
use super::tasks::Values;
use super::views::{Definition, DefinitionRow, VersionView};
use super::{
    DecisionRow, DecisionVersion, Deployed, DeployedDecision, MAX_ATTEMPTS, Outcome, Runtime,
    RuntimeError, hex, require, utf8_source,
};
use crate::dmn::DecisionResult;
use crate::engine::{self, Command};
use crate::model::{self, NodeKind, ParseError, Process};
use crate::store::{NewStartTimer, Store, StoreError, Unmet, to_db_time};

/// The result of deploying a file.
#[derive(Debug, Clone)]
pub struct DeployResult {
    /// The definitions of the file's runnable processes (new or existing).
    pub definitions: Vec<DeployedDefinition>,
    /// The decisions of a DMN file (new or existing versions).
    pub decisions: Vec<DeployedDefinition>,
    /// The form of a `.form` file (a new or the existing version).
    pub forms: Vec<DeployedDefinition>,
    pub warnings: Vec<model::Diagnostic>,
}

/// One process (or decision) of a deployment.
#[derive(Debug, Clone)]
pub struct DeployedDefinition {
    pub id: i64,
    pub key: String,
    pub version: i32,
    pub name: Option<String>,
    /// Whether this deployment created it (false: identical to the latest version).
    pub created: bool,
    pub is_default: bool,
    /// The deployment (uploaded file) it came from: this one's when `created`,
    /// else the earlier one whose content was identical.
    pub deployment_id: i64,
}

/// One deployment: an uploaded file.
#[derive(Debug, Clone)]
pub struct DeploymentView {
    pub id: i64,
    /// The file's name.
    pub name: String,
    pub deployed_at: chrono::DateTime<chrono::Utc>,
    pub deployed_by: Option<String>,
}

/// A BPMN file kept for viewing only: stored without a process definition,
/// so it can never be started.
#[derive(Debug, Clone)]
pub struct ViewOnlyView {
    pub id: i64,
    /// The uploaded file's name.
    pub file: String,
    /// The diagram's name.
    pub name: String,
    pub kept_at: chrono::DateTime<chrono::Utc>,
    pub kept_by: Option<String>,
}

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    /// The process key.
    pub key: String,
    /// The version (the latest when `None`).
    pub version: Option<i32>,
    /// Start variables, checked against the start form.
    pub values: Values,
    pub business_key: Option<String>,
}

/// Deployed processes and decisions, as a principal sees and uses them.
pub struct Deployments<'r> {
    pub(super) rt: &'r Runtime,
}

impl Runtime {
    /// Deployments: files, definitions, decisions, and starting instances.
    pub fn deployments(&self) -> Deployments<'_> {
        Deployments { rt: self }
    }
}

/// The start form of a process.
pub(crate) fn start_form(process: &Process) -> Vec<model::form::FormField> {
    process
        .start
        .and_then(|s| match &process.nodes[s].kind {
            NodeKind::StartEvent(e) => Some(e.form.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

impl Deployments<'_> {
    /// Deploys a BPMN or DMN file.
    pub async fn deploy(
        &self,
        who: &Principal,
        name: &str,
        bytes: &[u8],
    ) -> Result<DeployResult, RuntimeError> {
        require(who, Action::Deploy)?;
        self.rt.deploy_file(name, bytes, Some(&who.name)).await
    }

    /// Checks that a BPMN or DMN file would deploy, storing nothing: the
    /// same parse and validation as [`Deployments::deploy`], so that a face
    /// deploying several files can refuse them all before storing any.
    pub fn check(&self, who: &Principal, bytes: &[u8]) -> Result<(), RuntimeError> {
        require(who, Action::Deploy)?;
        if crate::dmn::is_dmn(bytes) {
            crate::dmn::parse_dmn(bytes).map_err(RuntimeError::Invalid)?;
        } else if model::camunda_form::is_form("", bytes) {
            model::camunda_form::parse(bytes)
                .map_err(|p| RuntimeError::Invalid(super::forms::form_error(p)))?;
        } else {
            self.rt.validate(bytes).map_err(RuntimeError::Invalid)?;
        }
        utf8_source(bytes)?;
        Ok(())
    }

    /// Checks that the forms a diagram links are deployed, or among
    /// `pending` (`(file name, form id)` of `.form` files deployed in the
    /// same request), storing nothing.
    pub async fn check_forms(
        &self,
        who: &Principal,
        bytes: &[u8],
        pending: &[(String, String)],
    ) -> Result<(), RuntimeError> {
        require(who, Action::Deploy)?;
        if crate::dmn::is_dmn(bytes) || model::camunda_form::is_form("", bytes) {
            return Ok(());
        }
        let defs = self.rt.validate(bytes).map_err(RuntimeError::Invalid)?;
        let txn = self.rt.store().begin_write().await?;
        Runtime::check_form_links(&txn, &defs, pending).await
    }

    /// The Camunda Form of a process's none start event (its start form).
    pub async fn start_camunda_form(
        &self,
        deployed: &Deployed,
    ) -> Result<Option<Arc<model::camunda_form::FormDoc>>, RuntimeError> {
        let Some(start) = deployed.process().start else {
            return Ok(None);
        };
        let element = deployed.process().nodes[start].id.clone();
        self.rt.form_of(deployed, &element).await
    }

    /// Keeps a BPMN file for viewing only (typically one the engine refused):
    /// stored with no process definition, so it is listed as view-only and
    /// can never be started. Refused when there is nothing to look at: not
    /// BPMN, or no diagram layout (BPMNDI).
    pub async fn keep_for_viewing(
        &self,
        who: &Principal,
        file: &str,
        bytes: &[u8],
    ) -> Result<i64, RuntimeError> {
        require(who, Action::Deploy)?;
        let defs = model::parse_for_drawing(bytes).map_err(RuntimeError::Invalid)?;
        if defs
            .diagrams
            .iter()
            .all(|d| d.shapes.is_empty() && d.edges.is_empty())
        {
            return Err(RuntimeError::Rejected(format!(
                "{file} has no diagram layout (BPMNDI): there is nothing to show"
            )));
        }
        let source = utf8_source(bytes)?;
        let name = defs
            .processes
            .iter()
            .filter_map(|p| p.name.as_deref())
            .chain(defs.name.as_deref())
            .map(str::trim)
            .find(|n| !n.is_empty())
            .unwrap_or(file)
            .to_string();
        let now = crate::store::to_db_time(self.rt.clock().now());
        Ok(self
            .rt
            .store()
            .keep_view_only(file, &name, &source, now, Some(&who.name))
            .await?)
    }

    /// The files kept for viewing only, by name.
    pub async fn view_only_list(&self, who: &Principal) -> Result<Vec<ViewOnlyView>, RuntimeError> {
        require(who, Action::ViewDefinitions)?;
        Ok(self
            .rt
            .store()
            .view_only_diagrams()
            .await?
            .into_iter()
            .map(|(id, file, name, kept_at, kept_by)| ViewOnlyView {
                id,
                file,
                name,
                kept_at,
                kept_by,
            })
            .collect())
    }

    /// A file kept for viewing only, read for drawing (never for running).
    pub async fn view_only(
        &self,
        who: &Principal,
        id: i64,
    ) -> Result<(ViewOnlyView, model::Definitions), RuntimeError> {
        require(who, Action::ViewDefinitions)?;
        let row = self
            .rt
            .store()
            .view_only_diagram(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("view-only diagram {id}")))?;
        let defs = model::parse_for_drawing(row.source.as_bytes()).map_err(|e| {
            RuntimeError::Corrupt(format!("view-only diagram {id} cannot be read: {e}"))
        })?;
        Ok((
            ViewOnlyView {
                id: row.id,
                file: row.file,
                name: row.name,
                kept_at: row.kept_at,
                kept_by: row.kept_by,
            },
            defs,
        ))
    }

    /// Every deployment (uploaded file), newest first.
    pub async fn deployments(&self, who: &Principal) -> Result<Vec<DeploymentView>, RuntimeError> {
        require(who, Action::ViewDefinitions)?;
        Ok(self
            .rt
            .store()
            .deployments()
            .await?
            .into_iter()
            .map(|(id, name, deployed_at, deployed_by)| DeploymentView {
                id,
                name,
                deployed_at,
                deployed_by,
            })
            .collect())
    }

    /// Deleting a deployment: refused, for this engine keeps every version
    /// it deployed (instances and history refer to them). Checked as
    /// deploying is (admins), then whether the deployment exists.
    pub async fn delete(&self, who: &Principal, id: i64) -> Result<(), RuntimeError> {
        require(who, Action::Deploy)?;
        if !self.deployments(who).await?.iter().any(|d| d.id == id) {
            return Err(RuntimeError::NotFound(format!("deployment {id}")));
        }
        Err(RuntimeError::Rejected(format!(
            "deployment {id} cannot be deleted: this engine keeps every deployed version (deploy a new version instead)"
        )))
    }

    /// Deploys a file of the server's diagram directory at start-up (by
    /// whoever started the server: the file records no user).
    pub async fn deploy_at_startup(
        &self,
        name: &str,
        bytes: &[u8],
    ) -> Result<DeployResult, RuntimeError> {
        self.rt.deploy_file(name, bytes, None).await
    }

    /// Every process key with its latest version.
    pub async fn list(&self, who: &Principal) -> Result<Vec<DefinitionRow>, RuntimeError> {
        require(who, Action::ViewDefinitions)?;
        let store = self.rt.store();
        let stats = store.definition_stats().await?;
        let running: std::collections::HashMap<String, i64> =
            store.running_per_key().await?.into_iter().collect();
        let mut latest = std::collections::HashMap::new();
        for d in store.definitions().await? {
            latest.entry(d.key.clone()).or_insert(d);
        }
        Ok(stats
            .into_iter()
            .filter_map(|s| {
                let l = latest.get(&s.key)?;
                Some(DefinitionRow {
                    name: l.name.clone().unwrap_or_else(|| s.key.clone()),
                    latest_id: l.id,
                    latest_version: s.latest_version,
                    versions: s.versions,
                    running: running.get(&s.key).copied().unwrap_or(0),
                    key: s.key,
                })
            })
            .collect())
    }

    /// Every version of a process key, newest first (empty for an unknown key).
    pub async fn versions(
        &self,
        who: &Principal,
        key: &str,
    ) -> Result<Vec<VersionView>, RuntimeError> {
        require(who, Action::ViewDefinitions)?;
        Ok(self
            .rt
            .store()
            .versions(key)
            .await?
            .into_iter()
            .map(|(d, dep)| VersionView {
                id: d.id,
                version: d.version,
                deployed_at: dep.as_ref().map(|x| x.deployed_at).unwrap_or(d.created_at),
                deployed_by: dep.as_ref().and_then(|x| x.deployed_by.clone()),
                file: dep.map(|x| x.name).unwrap_or_default(),
                suspended: d.suspended,
            })
            .collect())
    }

    /// A version of a process key (the latest when `version` is `None`) with
    /// its parsed model.
    pub async fn get(
        &self,
        who: &Principal,
        key: &str,
        version: Option<i32>,
    ) -> Result<Arc<Deployed>, RuntimeError> {
        let versions = self.versions(who, key).await?;
        let chosen = match version {
            Some(v) => versions.iter().find(|x| x.version == v),
            None => versions.first(),
        }
        .ok_or_else(|| match version {
            Some(v) => RuntimeError::NotFound(format!("version {v} of process {key}")),
            None => RuntimeError::NotFound(format!("process {key}")),
        })?;
        self.rt.deployed(chosen.id).await
    }

    /// A version by its id (the `id` of a definition in lists and answers).
    pub async fn by_id(&self, who: &Principal, id: i64) -> Result<Arc<Deployed>, RuntimeError> {
        require(who, Action::ViewDefinitions)?;
        self.rt.deployed(id).await
    }

    /// The file a version was deployed from.
    pub async fn source(
        &self,
        who: &Principal,
        definition: &Definition,
    ) -> Result<String, RuntimeError> {
        require(who, Action::ViewDefinitions)?;
        let (_, dep) = self
            .rt
            .store()
            .definition_with_source(definition.id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("definition {}", definition.id)))?;
        Ok(dep.source)
    }

    /// The latest version of the process whose key, or whose file's name, is `name`.
    pub async fn find(&self, who: &Principal, name: &str) -> Result<Arc<Deployed>, RuntimeError> {
        let rows = self.list(who).await?;
        if let Some(r) = rows.iter().find(|r| r.key == name) {
            return self.rt.deployed(r.latest_id).await;
        }
        for r in &rows {
            if self
                .versions(who, &r.key)
                .await?
                .first()
                .is_some_and(|v| v.file == name)
            {
                return self.rt.deployed(r.latest_id).await;
            }
        }
        Err(RuntimeError::NotFound(format!("model {name}")))
    }

    /// Starts an instance at its none start event, with the start form's values.
    ///
    /// A start of the latest version (no version given) starts from the
    /// newest version this process has seen of the key, without reading it
    /// again: the insert itself refuses it should a newer version have been
    /// deployed (by any process) or it be suspended, and then the versions
    /// are read and the start computed again.
    pub async fn start(&self, who: &Principal, req: StartRequest) -> Result<Outcome, RuntimeError> {
        require(who, Action::StartInstance)?;
        require(who, Action::ViewDefinitions)?;
        let business_key = req.business_key.as_deref().filter(|b| !b.trim().is_empty());
        let mut known = match req.version {
            None => self.rt.latest_seen(&req.key),
            Some(_) => None,
        };
        // The version a start read as the latest and was refused from.
        let mut refused = None;
        for _ in 0..MAX_ATTEMPTS {
            let deployed = match known {
                Some(id) => self.rt.deployed(id).await?,
                None => self.get(who, &req.key, req.version).await?,
            };
            let variables = self.start_variables(&deployed, &req.values).await?;
            let command = Command::Start {
                variables,
                initiator: Some(who.name.clone()),
            };
            let latest = req.version.is_none();
            let started = self
                .rt
                .start_with(
                    deployed.clone(),
                    command,
                    business_key,
                    Some(&who.name),
                    latest,
                )
                .await;
            match started {
                Ok(outcome) => {
                    if latest {
                        self.rt.saw_latest(&req.key, deployed.definition.id);
                    }
                    return Ok(outcome);
                }
                // Superseded since it was seen, or suspended: look again
                // (the same version read twice and refused is suspended).
                Err(RuntimeError::Store(StoreError::Unmet(Unmet::Definition(id))))
                    if latest && (known.is_some() || refused != Some(id)) =>
                {
                    refused = known.is_none().then_some(id);
                    known = None;
                }
                Err(e) => return Err(super::command::suspended(e, &deployed)),
            }
        }
        Err(RuntimeError::Busy)
    }

    /// The variables a start sends: the start form's values, checked.
    async fn start_variables(
        &self,
        deployed: &Deployed,
        values: &Values,
    ) -> Result<Map<String, Value>, RuntimeError> {
        let Some(doc) = self.start_camunda_form(deployed).await? else {
            return Ok(values.resolve(&start_form(deployed.process())));
        };
        let sub = match values {
            Values::Json(m) => model::camunda_form::Submitted::json(&doc, m),
            Values::Posted(p) => model::camunda_form::Submitted::posted(&doc, p),
        };
        let today = self.rt.today();
        let vars = Map::new();
        self.rt
            .budgeted(move || model::camunda_form::submit(&doc, &vars, &sub, Some(today)))
            .await?
            .map_err(RuntimeError::InvalidVariables)
    }

    /// Every deployed decision with its latest version.
    pub async fn decisions(&self, who: &Principal) -> Result<Vec<DecisionRow>, RuntimeError> {
        require(who, Action::ViewDecisions)?;
        self.rt.decision_rows().await
    }

    /// The versions of a decision, newest first.
    pub async fn decision_versions(
        &self,
        who: &Principal,
        key: &str,
    ) -> Result<Vec<DecisionVersion>, RuntimeError> {
        require(who, Action::ViewDecisions)?;
        self.rt.decision_versions(key).await
    }

    /// A version of a decision (the latest when `version` is `None`).
    pub async fn decision(
        &self,
        who: &Principal,
        key: &str,
        version: Option<i32>,
    ) -> Result<Arc<DeployedDecision>, RuntimeError> {
        require(who, Action::ViewDecisions)?;
        match version {
            None => self.rt.find_decision(key, "latest", None, None, None).await,
            Some(v) => {
                self.rt
                    .find_decision(key, "version", Some(v), None, None)
                    .await
            }
        }
    }

    /// Evaluates the latest version of a decision.
    pub async fn evaluate(
        &self,
        who: &Principal,
        key: &str,
        variables: &Map<String, Value>,
    ) -> Result<(Arc<DeployedDecision>, DecisionResult), RuntimeError> {
        require(who, Action::EvaluateDecision)?;
        let d = self
            .rt
            .find_decision(key, "latest", None, None, None)
            .await?;
        let (decision, key, variables) = (d.clone(), key.to_string(), variables.clone());
        let now = self.rt.clock().now();
        let result = self
            .rt
            .budgeted(move || decision.dmn.evaluate_at(&key, &variables, Some(now)))
            .await?
            .map_err(|e| RuntimeError::Rejected(e.to_string()))?;
        Ok((d, result))
    }
}

impl Runtime {
    /// Deploys a BPMN file: each runnable process becomes a new version of its
    /// key, unless the latest version has exactly this content. A DMN file
    /// deploys its decisions the same way.
    pub(crate) async fn deploy_file(
        &self,
        name: &str,
        bytes: &[u8],
        by: Option<&str>,
    ) -> Result<DeployResult, RuntimeError> {
        if crate::dmn::is_dmn(bytes) {
            return self.deploy_dmn(name, bytes, by).await;
        }
        if model::camunda_form::is_form(name, bytes) {
            return self.deploy_form(name, bytes, by).await;
        }
        let defs = self.validate(bytes).map_err(RuntimeError::Invalid)?;
        let source = utf8_source(bytes)?;
        let checksum = hex(&Sha256::digest(source.as_bytes()));
        let runnable: Vec<&Process> = defs.runnable().collect();
        let txn = self.store().begin_write().await?;
        Store::lock_deployments(&txn).await?;
        Runtime::check_form_links(&txn, &defs, &[]).await?;
        let mut existing = Vec::new();
        for p in &runnable {
            match Store::latest_definition_in(&txn, &p.id).await? {
                Some((d, sum))
                    if sum == checksum
                        && !Runtime::forms_moved(&txn, p, d.deployment_id).await? =>
                {
                    existing.push(Some(d))
                }
                _ => existing.push(None),
            }
        }
        let now = to_db_time(self.clock().now());
        let default_id = defs.main_process().map(|p| p.id.clone());
        let mut out = Vec::new();
        if existing.iter().all(Option::is_some) {
            drop(txn);
            for d in existing.into_iter().flatten() {
                out.push(summary(&d.into(), false));
            }
        } else {
            let dep = Store::insert_deployment(&txn, name, &source, &checksum, by, now).await?;
            for (p, old) in runnable.iter().zip(existing) {
                let d = match old {
                    Some(d) => {
                        out.push(summary(&d.into(), false));
                        continue;
                    }
                    None => {
                        let is_default = default_id.as_deref() == Some(p.id.as_str());
                        let d = Store::insert_definition(
                            &txn,
                            dep,
                            &p.id,
                            p.name.as_deref(),
                            is_default,
                            now,
                        )
                        .await?;
                        // The new version's schedule replaces the old one's.
                        let timers = start_timers(p, d.id, self.clock().now())?;
                        Store::replace_start_timers(&txn, &p.id, &timers, now).await?;
                        d
                    }
                };
                out.push(summary(&d.into(), true));
            }
            Store::commit(txn).await?;
        }
        Ok(DeployResult {
            definitions: out,
            decisions: Vec::new(),
            forms: Vec::new(),
            warnings: defs.warnings,
        })
    }

    /// Starts an instance of a definition at a given start event (a message
    /// or signal start), as `user`.
    pub(crate) async fn start_at(
        &self,
        definition_id: i64,
        element: &str,
        variables: Map<String, Value>,
        business_key: Option<&str>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        let deployed = self.deployed(definition_id).await?;
        let command = Command::StartAt {
            element: element.to_string(),
            variables,
        };
        self.start_with(deployed, command, business_key, user, false)
            .await
    }
}

/// The first firings of a process's timer start events.
fn start_timers(
    p: &Process,
    definition_id: i64,
    now: jiff::Timestamp,
) -> Result<Vec<NewStartTimer>, RuntimeError> {
    let mut out = Vec::new();
    for n in &p.timer_starts {
        let element = &p.nodes[*n].id;
        let due = engine::start_timer_due(p, element, 0, None, now).map_err(|e| {
            RuntimeError::Invalid(ParseError {
                diagnostics: vec![model::Diagnostic {
                    severity: model::Severity::Error,
                    line: 0,
                    column: 0,
                    element: Some(element.clone()),
                    kind: Some("startEvent".into()),
                    message: e,
                }],
            })
        })?;
        if let Some(due) = due {
            out.push(NewStartTimer {
                definition_id,
                definition_key: p.id.clone(),
                element_id: element.clone(),
                due: to_db_time(due),
                fired: 0,
                suspended: false,
            });
        }
    }
    Ok(out)
}

fn summary(d: &Definition, created: bool) -> DeployedDefinition {
    DeployedDefinition {
        id: d.id,
        key: d.key.clone(),
        version: d.version,
        name: d.name.clone(),
        created,
        is_default: d.is_default,
        deployment_id: d.deployment_id,
    }
}
