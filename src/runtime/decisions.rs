//! Deployed decisions (DMN): deploying `.dmn` files, finding the version a
//! business rule task asks for, and evaluating it (the work of its `decide` job).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{DeployResult, DeployedDefinition, Runtime, RuntimeError, hex};
use crate::dmn::{self, DmnDefinitions};
use crate::model::MapDecisionResult;
use crate::store::entity::decision_definition;
use crate::store::{Job, Store, to_db_time};

/// A deployed decision version with the parsed file it came from.
#[derive(Debug)]
pub struct DeployedDecision {
    pub definition: DecisionDefinition,
    pub dmn: DmnDefinitions,
}

/// One version of one decision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DecisionDefinition {
    pub id: i64,
    pub deployment_id: i64,
    pub key: String,
    pub version: i32,
    pub name: Option<String>,
    pub version_tag: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<decision_definition::Model> for DecisionDefinition {
    fn from(d: decision_definition::Model) -> DecisionDefinition {
        DecisionDefinition {
            id: d.id,
            deployment_id: d.deployment_id,
            key: d.key,
            version: d.version,
            name: d.name,
            version_tag: d.version_tag,
            created_at: d.created_at,
        }
    }
}

/// Parsed decision files by decision version id.
pub(crate) type DecisionCache = super::cache::ParsedCache<DeployedDecision>;

/// The payload of a `decide` job (see the business rule task behaviour).
#[derive(Debug, Deserialize)]
struct DecideRequest {
    decision: String,
    binding: String,
    #[serde(default)]
    version: Option<i32>,
    #[serde(default)]
    version_tag: Option<String>,
    #[serde(default)]
    variables: Map<String, Value>,
    #[serde(default)]
    result_variable: Option<String>,
    #[serde(default)]
    map: Option<MapDecisionResult>,
}

impl Runtime {
    /// Deploys a DMN file: each decision becomes a new version of its id,
    /// unless the latest version has exactly this content.
    pub(crate) async fn deploy_dmn(
        &self,
        name: &str,
        bytes: &[u8],
        by: Option<&str>,
    ) -> Result<DeployResult, RuntimeError> {
        let defs = dmn::parse_dmn(bytes).map_err(RuntimeError::Invalid)?;
        let source = super::utf8_source(bytes)?;
        let checksum = hex(&Sha256::digest(source.as_bytes()));
        let txn = self.store().begin_write().await?;
        Store::lock_deployments(&txn).await?;
        let mut existing = Vec::new();
        for d in &defs.decisions {
            match Store::latest_decision_in(&txn, &d.id).await? {
                Some((row, sum)) if sum == checksum => existing.push(Some(row)),
                _ => existing.push(None),
            }
        }
        let now = to_db_time(self.clock().now());
        let mut out = Vec::new();
        if existing.iter().all(Option::is_some) {
            drop(txn);
            out.extend(existing.into_iter().flatten().map(|d| summary(&d, false)));
        } else {
            let dep = Store::insert_deployment(&txn, name, &source, &checksum, by, now).await?;
            for (d, old) in defs.decisions.iter().zip(existing) {
                let row = match old {
                    Some(row) => {
                        out.push(summary(&row, false));
                        continue;
                    }
                    None => {
                        Store::insert_decision(
                            &txn,
                            dep,
                            &d.id,
                            d.name.as_deref(),
                            d.version_tag.as_deref(),
                            now,
                        )
                        .await?
                    }
                };
                out.push(summary(&row, true));
            }
            Store::commit(txn).await?;
        }
        Ok(DeployResult {
            definitions: Vec::new(),
            decisions: out,
            forms: Vec::new(),
            warnings: defs.warnings,
        })
    }

    /// A deployed decision version (its file parsed once).
    pub(crate) async fn decision(&self, id: i64) -> Result<Arc<DeployedDecision>, RuntimeError> {
        if let Some(d) = self.decision_cache.get(id) {
            return Ok(d);
        }
        let (definition, dep) = self
            .store()
            .decision_with_source(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("decision {id}")))?;
        let dmn = dmn::parse_dmn(dep.source.as_bytes()).map_err(|e| {
            RuntimeError::Corrupt(format!("deployment {} no longer parses: {e}", dep.id))
        })?;
        let deployed = Arc::new(DeployedDecision {
            definition: definition.into(),
            dmn,
        });
        self.decision_cache.put(
            id,
            deployed.clone(),
            dep.source.len() * super::cache::PARSED_PER_SOURCE_BYTE,
        );
        Ok(deployed)
    }

    /// The version of decision `key` a binding asks for: `latest`,
    /// `deployment` (the latest when the caller's deployment `caller` was
    /// made), `version` or `versionTag`.
    pub(crate) async fn find_decision(
        &self,
        key: &str,
        binding: &str,
        version: Option<i32>,
        version_tag: Option<&str>,
        caller: Option<i64>,
    ) -> Result<Arc<DeployedDecision>, RuntimeError> {
        let versions = self.store().decisions_of_key(key).await?;
        let found = match binding {
            // A .dmn file is always a deployment of its own: "the caller's
            // deployment" is the version that was the latest when it was deployed.
            "deployment" => versions
                .iter()
                .find(|d| caller.is_some_and(|c| d.deployment_id <= c))
                .ok_or_else(|| format!("decision \"{key}\" deployed before the calling process")),
            "version" => versions
                .iter()
                .find(|d| Some(d.version) == version)
                .ok_or_else(|| format!("version {} of decision \"{key}\"", version.unwrap_or(0))),
            "versionTag" => versions
                .iter()
                .find(|d| d.version_tag.as_deref() == version_tag)
                .ok_or_else(|| {
                    format!(
                        "decision \"{key}\" with version tag \"{}\"",
                        version_tag.unwrap_or_default()
                    )
                }),
            _ => versions
                .first()
                .ok_or_else(|| format!("decision \"{key}\"")),
        }
        .map_err(RuntimeError::NotFound)?;
        self.decision(found.id).await
    }

    /// The work of a `decide` job: evaluates the decision and maps its result
    /// into the result variable (nothing is set without one).
    pub(crate) async fn decide_for_job(&self, job: &Job) -> Result<Map<String, Value>, String> {
        let req: DecideRequest = serde_json::from_str(&job.payload)
            .map_err(|e| format!("the decide job's payload is damaged: {e}"))?;
        // Only the deployment binding needs to know where the caller came from.
        let caller = if req.binding == "deployment" {
            match self.store().instance(job.instance_id).await {
                Ok(Some(row)) => self
                    .deployed(row.definition_id)
                    .await
                    .ok()
                    .map(|d| d.definition.deployment_id),
                _ => None,
            }
        } else {
            None
        };
        let deployed = self
            .find_decision(
                &req.decision,
                &req.binding,
                req.version,
                req.version_tag.as_deref(),
                caller,
            )
            .await
            .map_err(|e| e.to_string())?;
        let (decision, variables) = (req.decision.clone(), req.variables);
        let now = self.clock().now();
        let result = self
            .budgeted(move || deployed.dmn.evaluate_at(&decision, &variables, Some(now)))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let mut out = Map::new();
        if let Some(var) = req.result_variable {
            let value = match req.map.unwrap_or_default() {
                MapDecisionResult::SingleEntry => result.single_entry(),
                MapDecisionResult::SingleResult => result.single_result(),
                MapDecisionResult::CollectEntries => result.collect_entries(),
                MapDecisionResult::ResultList => Ok(result.result_list()),
                MapDecisionResult::Natural => Ok(result.as_variable()),
            }
            .map_err(|e| e.to_string())?;
            out.insert(var, value);
        }
        Ok(out)
    }
}

fn summary(d: &decision_definition::Model, created: bool) -> DeployedDefinition {
    DeployedDefinition {
        id: d.id,
        key: d.key.clone(),
        version: d.version,
        name: d.name.clone(),
        created,
        is_default: false,
        deployment_id: d.deployment_id,
    }
}

/// One version of a decision, for its page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecisionVersion {
    pub id: i64,
    pub version: i32,
    pub version_tag: Option<String>,
    pub deployed_at: chrono::DateTime<chrono::Utc>,
}

/// A decision in the overview.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecisionRow {
    pub key: String,
    pub name: String,
    pub latest_id: i64,
    pub latest_version: i32,
    pub versions: i64,
}

impl Runtime {
    /// Every deployed decision key with its latest version.
    pub(crate) async fn decision_rows(&self) -> Result<Vec<DecisionRow>, RuntimeError> {
        let mut rows: Vec<DecisionRow> = Vec::new();
        for d in self.store().decisions().await? {
            match rows.last_mut() {
                Some(r) if r.key == d.key => r.versions += 1,
                _ => rows.push(DecisionRow {
                    name: d.name.clone().unwrap_or_else(|| d.key.clone()),
                    key: d.key,
                    latest_id: d.id,
                    latest_version: d.version,
                    versions: 1,
                }),
            }
        }
        Ok(rows)
    }

    /// The versions of a decision, newest first.
    pub(crate) async fn decision_versions(
        &self,
        key: &str,
    ) -> Result<Vec<DecisionVersion>, RuntimeError> {
        Ok(self
            .store()
            .decisions_of_key(key)
            .await?
            .into_iter()
            .map(|d| DecisionVersion {
                id: d.id,
                version: d.version,
                version_tag: d.version_tag,
                deployed_at: d.created_at,
            })
            .collect())
    }
}
