//! The `http-connector`: the HTTP call a service task's `camunda:connector`
//! describes, made by the job executor outside any transaction.
//!
//! Inputs (the connector's evaluated input parameters):
//! - `url` (required), `method` (default `GET`), `headers` (a map);
//! - `payload`: the request body — text as it is, anything else as JSON;
//! - without `payload`, as the engine this one replaces did, every other input
//!   parameter becomes a field of a JSON body (not for `GET`/`HEAD`), and
//!   `url_parameter` (a map) becomes the query string;
//! - `timeout`: an ISO 8601 duration or milliseconds (default 30 s), capped
//!   by the policy's maximum.
//!
//! The job id goes out as the `Idempotency-Key` header: delivery is
//! at-least-once (a process may die after the call and before the commit), so
//! the receiving side can recognise a repeated call. A reply outside 2xx is a
//! failure that names the status and a bounded excerpt of the body; the job is
//! retried and becomes an incident when its attempts run out. A 2xx reply comes
//! back as `response` (parsed JSON, or the text), `statusCode` and `headers` —
//! as does every reply when the task maps results to BPMN errors
//! (`camunda:errorEventDefinition`, payload `any_status`): its mappings decide.
//!
//! **What it may reach** ([`ConnectorPolicy`]). Whoever may start a process
//! may choose its variables, so a URL computed from them must not turn the
//! server into a proxy for its own network. A call goes only to a host that
//! the deployed diagram writes literally in the `url` input (the part before
//! the first expression, up to the path) or that the allow list names; a host
//! that resolves to a loopback, private, link-local or otherwise non-public
//! address (IPv4 and IPv6, also an address written as such) only when the allow
//! list names it. The addresses are checked where the connection is made (a
//! resolver of our own), so a name that changes its answer between a check and
//! the connect gains nothing. Redirects are followed only to the same host. A
//! refused call fails like an unreachable one: retried, then an incident.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::Url;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::Runtime;
use crate::model::expr::Template;
use crate::model::{NodeKind, ParamValue, ServiceTask};
use crate::store::Job;

/// How long a call may take unless its `timeout` input says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest `timeout` a call may ask for unless the policy says otherwise:
/// every running call holds one of the executor's job slots.
pub const DEFAULT_TIMEOUT_MAX: Duration = Duration::from_secs(60);
/// Redirects followed at most (all to the same host).
const MAX_REDIRECTS: usize = 10;
/// The largest response body read.
const MAX_BODY: usize = 8 * 1024 * 1024;
/// How much of a failed reply's body goes into the error.
const EXCERPT: usize = 300;

/// Inputs that configure the call rather than travel in its body.
const CONTROL: &[&str] = &[
    "url",
    "method",
    "headers",
    "payload",
    "url_parameter",
    "timeout",
];

/// Installs the process-wide TLS implementation (ring) that HTTP clients use.
/// Call it before building any `reqwest` client; calling it again is harmless.
pub fn install_tls_provider() {
    // An error only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// What the `http-connector` may reach, and how long a call may take.
///
/// The default refuses every host the diagram does not write and every
/// non-public address: a server's settings (`--connector-allow`,
/// `--connector-timeout-max`) widen it with [`ConnectorPolicy::allowing`]
/// and [`ConnectorPolicy::with_timeout_max`].
#[derive(Clone)]
pub struct ConnectorPolicy {
    allow: Arc<AllowList>,
    timeout_max: Duration,
    /// Built on first use: it carries the allow list into its resolver.
    client: Arc<OnceLock<Result<reqwest::Client, String>>>,
}

/// Hosts named by the operator, as URLs spell them (`example.com`,
/// `127.0.0.1`, `[::1]`); `*` names every host.
#[derive(Debug, Default)]
struct AllowList {
    any: bool,
    hosts: BTreeSet<String>,
}

impl AllowList {
    fn contains(&self, host: &str) -> bool {
        self.any || self.hosts.contains(&host.to_ascii_lowercase())
    }
}

impl std::fmt::Debug for ConnectorPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorPolicy")
            .field("allow", &self.allow)
            .field("timeout_max", &self.timeout_max)
            .finish()
    }
}

impl Default for ConnectorPolicy {
    fn default() -> Self {
        ConnectorPolicy {
            allow: Arc::default(),
            timeout_max: DEFAULT_TIMEOUT_MAX,
            client: Arc::default(),
        }
    }
}

impl ConnectorPolicy {
    /// Hosts written in the diagram only, public addresses only, 60 s at most.
    pub fn new() -> ConnectorPolicy {
        ConnectorPolicy::default()
    }

    /// Every host and address: for `bpmn run`, where whoever chooses the
    /// variables also runs the process on her own machine.
    pub fn permissive() -> ConnectorPolicy {
        ConnectorPolicy {
            allow: Arc::new(AllowList {
                any: true,
                hosts: BTreeSet::new(),
            }),
            ..ConnectorPolicy::default()
        }
    }

    /// Also allows these hosts — names or addresses, without scheme or port;
    /// `*` allows all — whatever the diagram writes and wherever they point
    /// (loopback and private addresses included). Refuses an entry that is
    /// not a host.
    pub fn allowing<I, S>(self, hosts: I) -> Result<ConnectorPolicy, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut allow = AllowList {
            any: self.allow.any,
            hosts: self.allow.hosts.clone(),
        };
        for entry in hosts {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                allow.any = true;
                continue;
            }
            allow.hosts.insert(normalize_host(entry)?);
        }
        Ok(ConnectorPolicy {
            allow: Arc::new(allow),
            timeout_max: self.timeout_max,
            client: Arc::default(),
        })
    }

    /// The longest `timeout` input honoured; a longer one is cut to this.
    pub fn with_timeout_max(mut self, max: Duration) -> ConnectorPolicy {
        self.timeout_max = max;
        self
    }

    /// The longest `timeout` input honoured.
    pub fn timeout_max(&self) -> Duration {
        self.timeout_max
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        self.client
            .get_or_init(|| {
                install_tls_provider();
                reqwest::Client::builder()
                    .user_agent(concat!("bpmn-engine/", env!("CARGO_PKG_VERSION")))
                    .connect_timeout(Duration::from_secs(10))
                    // A proxy would make the connection, and the address checks
                    // would no longer see where it goes.
                    .no_proxy()
                    .dns_resolver(Arc::new(Resolver {
                        allow: self.allow.clone(),
                    }))
                    .redirect(reqwest::redirect::Policy::custom(same_host_redirects))
                    .build()
                    .map_err(|e| format!("cannot set up the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether a call may go to `url`, whose host the diagram writes as
    /// `written` (none when the url is computed up to its host).
    fn check(&self, url: &Url, written: Option<&str>) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused(format!(
                "the connector calls http and https URLs only, not {}",
                url.scheme()
            )));
        }
        let Some(host) = url.host_str() else {
            return Err(Refused("the url has no host".into()));
        };
        if self.allow.contains(host) {
            return Ok(());
        }
        if written != Some(host) {
            return Err(Refused(format!(
                "the host {host} is neither written in the diagram's url nor allowed by \
                 --connector-allow (BPMN_CONNECTOR_ALLOW)"
            )));
        }
        // A name is checked by the resolver, when it is looked up.
        let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        else {
            return Ok(());
        };
        if is_public(ip) {
            Ok(())
        } else {
            Err(not_public(host, ip))
        }
    }
}

/// Why a call was refused before it was made.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

fn not_public(host: &str, ip: IpAddr) -> Refused {
    let shown = if host.trim_matches(['[', ']']) == ip.to_string() {
        host.to_string()
    } else {
        format!("{host} ({ip})")
    };
    Refused(format!(
        "{shown} is not a public address; only hosts listed in --connector-allow \
         (BPMN_CONNECTOR_ALLOW) may be called there"
    ))
}

/// Looks names up and refuses those that point at a non-public address,
/// unless the allow list names them.
struct Resolver {
    allow: Arc<AllowList>,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let trusted = self.allow.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !trusted && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(Box::new(not_public(&host, bad.ip())) as _);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Follows a redirect only to the host the call went to first.
fn same_host_redirects(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let first = attempt.previous().first().and_then(Url::host_str);
    let next = attempt.url();
    if attempt.previous().len() > MAX_REDIRECTS {
        let refused = Refused(format!("more than {MAX_REDIRECTS} redirects"));
        return attempt.error(refused);
    }
    if first.is_some() && next.host_str() == first && matches!(next.scheme(), "http" | "https") {
        return attempt.follow();
    }
    let refused = Refused(format!(
        "the reply redirects to {}, another host than {}; redirects are followed \
         to the same host only",
        next.host_str().unwrap_or("(none)"),
        first.unwrap_or("(none)")
    ));
    attempt.error(refused)
}

/// A host as URLs spell it (lowercase names, `[...]` around IPv6), or why
/// the entry is not one.
fn normalize_host(entry: &str) -> Result<String, String> {
    let bracketed = if entry.contains(':') && !entry.starts_with('[') {
        format!("[{entry}]")
    } else {
        entry.to_string()
    };
    let refuse = || {
        format!("\"{entry}\" is not a host name or address (write it without scheme, port or path)")
    };
    let url = Url::parse(&format!("http://{bracketed}/")).map_err(|_| refuse())?;
    match url.host_str() {
        Some(h) if url.port().is_none() && url.path() == "/" && url.username().is_empty() => {
            Ok(h.to_string())
        }
        _ => Err(refuse()),
    }
}

/// Whether an address is reachable from anywhere: not loopback, private,
/// link-local, shared (CGNAT), documentation, benchmarking, multicast,
/// broadcast, unspecified or reserved — nor an IPv6 address that embeds such
/// an IPv4 one.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    // NAT64 (64:ff9b::/96) and the old IPv4-compatible form (::/96) carry an
    // IPv4 address in their last 32 bits.
    if (seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0; 4]) || seg[..6] == [0; 6] {
        let embedded = Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        );
        if !ip.is_unspecified() && !ip.is_loopback() {
            return is_public_v4(embedded);
        }
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        // Site-local (fec0::/10), deprecated but still routed inside some networks.
        || (seg[0] & 0xffc0) == 0xfec0
        // Documentation (2001:db8::/32).
        || (seg[0] == 0x2001 && seg[1] == 0x0db8))
}

/// The host the deployed diagram writes in the `url` input of the job's
/// connector: of a literal url, or of the literal text before its first
/// expression when that text reaches past the host (`https://api.example.com/orders/${id}`).
async fn written_host(runtime: &Runtime, job: &Job) -> Result<Option<String>, String> {
    let row = runtime
        .store()
        .instance(job.instance_id)
        .await
        .map_err(|e| format!("cannot read the instance of this call: {e}"))?
        .ok_or_else(|| format!("instance {} not found", job.instance_id))?;
    let deployed = runtime
        .deployed(row.definition_id)
        .await
        .map_err(|e| format!("cannot read the diagram of this call: {e}"))?;
    let Some(node) = deployed.process().node(&job.element_id) else {
        return Ok(None);
    };
    let NodeKind::ServiceTask(task) = &node.kind else {
        return Ok(None);
    };
    let ServiceTask::Connector(connector) = task.as_ref() else {
        return Ok(None);
    };
    Ok(connector
        .inputs
        .iter()
        .find(|p| p.name == "url")
        .and_then(|p| literal_host(&p.value)))
}

/// The host a url parameter's literal text fixes, if it does.
fn literal_host(value: &ParamValue) -> Option<String> {
    let ParamValue::Text(template) = value else {
        return None;
    };
    let text = match template {
        Template::Literal(s) => s.trim(),
        Template::Mixed { prefix, .. } => {
            let prefix = prefix.trim_start();
            let authority = prefix.find("://")? + 3;
            // Only text that goes on past the host fixes it: before that,
            // an expression could still add to the name or its user part.
            let end = authority + prefix[authority..].find(['/', '?', '#'])?;
            &prefix[..end]
        }
        Template::Expr(_) => return None,
    };
    Url::parse(text).ok()?.host_str().map(str::to_string)
}

/// Makes the call of a connector job, under the runtime's policy.
pub(crate) async fn call_for_job(
    runtime: &Runtime,
    job: &Job,
    payload: &Value,
) -> Result<Map<String, Value>, String> {
    let written = written_host(runtime, job).await?;
    call(
        runtime.connector_policy(),
        job.id,
        payload,
        written.as_deref(),
    )
    .await
}

/// Makes the call a connector job describes, if `policy` lets it reach its
/// url (whose host the diagram writes as `written`); returns the variables of
/// its reply.
pub async fn call(
    policy: &ConnectorPolicy,
    job_id: Uuid,
    payload: &Value,
    written: Option<&str>,
) -> Result<Map<String, Value>, String> {
    let inputs = payload
        .get("inputs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let url = match inputs.get("url") {
        Some(Value::String(u)) if !u.trim().is_empty() => u.trim().to_string(),
        other => return Err(format!("the url input is {}", describe(other))),
    };
    let method = match inputs.get("method") {
        None | Some(Value::Null) => "GET".to_string(),
        Some(Value::String(m)) => m.trim().to_ascii_uppercase(),
        other => return Err(format!("the method input is {}", describe(other))),
    };
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("\"{method}\" is not an HTTP method"))?;
    let parsed = Url::parse(&url).map_err(|e| format!("the url \"{url}\" is not a URL: {e}"))?;
    policy
        .check(&parsed, written)
        .map_err(|r| format!("{method} {url} refused: {r}"))?;
    let requested = match inputs.get("timeout") {
        None | Some(Value::Null) => DEFAULT_TIMEOUT,
        Some(Value::Number(ms)) => Duration::from_millis(ms.as_u64().unwrap_or(0)),
        Some(Value::String(s)) => crate::model::time::parse_duration(s)
            .ok()
            .and_then(|d| d.total(jiff::Unit::Millisecond).ok())
            .map(|ms| Duration::from_millis(ms.max(0.0) as u64))
            .ok_or_else(|| format!("the timeout input \"{s}\" is not an ISO 8601 duration"))?,
        other => return Err(format!("the timeout input is {}", describe(other))),
    };
    // Cut rather than refused: the call still has a chance, and the failure
    // after the cap names it.
    let timeout = requested.min(policy.timeout_max);
    let capped = (requested > timeout).then(|| {
        tracing::warn!(
            job.id = %job_id,
            requested_s = requested.as_secs_f64(),
            max_s = timeout.as_secs_f64(),
            "the connector's timeout input is longer than --connector-timeout-max; cut to it"
        );
        requested
    });
    let mut req = policy
        .client()?
        .request(method.clone(), parsed)
        .timeout(timeout)
        .header("Idempotency-Key", job_id.to_string());
    let mut has_content_type = false;
    if let Some(headers) = inputs.get("headers").and_then(Value::as_object) {
        for (name, value) in headers {
            has_content_type |= name.eq_ignore_ascii_case("content-type");
            req = req.header(name.as_str(), text(value));
        }
    }
    if let Some(query) = inputs.get("url_parameter").and_then(Value::as_object) {
        let pairs: Vec<(String, String)> =
            query.iter().map(|(k, v)| (k.clone(), text(v))).collect();
        req = req.query(&pairs);
    }
    let body = match inputs.get("payload") {
        Some(Value::Null) | None => {
            let rest: Map<String, Value> = inputs
                .iter()
                .filter(|(k, _)| !CONTROL.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let bodyless = method == reqwest::Method::GET || method == reqwest::Method::HEAD;
            (!rest.is_empty() && !bodyless).then(|| (Value::Object(rest).to_string(), true))
        }
        Some(Value::String(s)) => Some((s.clone(), false)),
        Some(other) => Some((other.to_string(), true)),
    };
    if let Some((body, json)) = body {
        if !has_content_type {
            let ct = if json {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            req = req.header("Content-Type", ct);
        }
        req = req.body(body);
    }
    let mut resp = req
        .send()
        .await
        .map_err(|e| failure(&method, &url, &e, timeout, capped))?;
    let status = resp.status();
    let mut headers = Map::new();
    for (name, value) in resp.headers() {
        if let Ok(v) = value.to_str() {
            headers.insert(name.as_str().to_string(), Value::String(v.to_string()));
        }
    }
    let mut bytes: Vec<u8> = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| failure(&method, &url, &e, timeout, capped))?
    {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(format!(
                "{method} {url}: the reply is larger than {} MB",
                MAX_BODY / (1024 * 1024)
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let body_text = String::from_utf8_lossy(&bytes).to_string();
    let any_status = payload.get("any_status").and_then(Value::as_bool) == Some(true);
    if !status.is_success() && !any_status {
        return Err(format!(
            "{method} {url} answered {status}: {}",
            excerpt(&body_text)
        ));
    }
    let response = if body_text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body_text).unwrap_or(Value::String(body_text))
    };
    let mut out = Map::new();
    out.insert("response".into(), response);
    out.insert("statusCode".into(), Value::from(status.as_u16()));
    out.insert("headers".into(), Value::Object(headers));
    Ok(out)
}

fn failure(
    method: &reqwest::Method,
    url: &str,
    e: &reqwest::Error,
    timeout: Duration,
    capped: Option<Duration>,
) -> String {
    // The policy's refusals (a resolved address, a redirect) come wrapped in
    // reqwest's and hyper's errors.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<Refused>() {
            return format!("{method} {url} refused: {refused}");
        }
        source = err.source();
    }
    if e.is_timeout() {
        let cap = match capped {
            Some(asked) => format!(
                " (the timeout input asked for {} s; --connector-timeout-max allows {} s)",
                asked.as_secs_f64(),
                timeout.as_secs_f64()
            ),
            None => String::new(),
        };
        format!(
            "{method} {url}: no reply within {} s{cap}",
            timeout.as_secs_f64()
        )
    } else if e.is_connect() {
        format!("{method} {url}: cannot connect ({e})")
    } else {
        format!("{method} {url}: {e}")
    }
}

/// A header or query value: strings as they are, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn describe(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "missing".into(),
        Some(other) => format!("{other}, not text"),
    }
}

/// The start of a body, on a character boundary, on one line.
fn excerpt(body: &str) -> String {
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = flat.trim();
    match trimmed.char_indices().nth(EXCERPT) {
        Some((i, _)) => format!("{}…", &trimmed[..i]),
        None if trimmed.is_empty() => "(empty body)".into(),
        None => trimmed.to_string(),
    }
}
