//! Notification mails: people hear when work waits for them.
//!
//! - **What is sent.** A user task assigned to someone mails that user; a
//!   task offered to groups and candidate users (nobody holds it) mails the
//!   members of those groups and those users; an incident mails the admins.
//!   Nobody is mailed about what they did themselves, and only enabled
//!   accounts with an address that did not opt out receive mail. Each mail
//!   links to the task (or the instance) on this server's public URL.
//! - **When.** [`Runtime::queue_mails`] writes the mails into the outbox in
//!   the transaction of the command that caused them, with a key per event and
//!   recipient that makes a second row for the same mail a no-op. Without an
//!   SMTP server configured nothing is written.
//! - **How.** The job executor leases due outbox rows (`JobType::Mail`) and
//!   [`deliver`]s them with no transaction open. A refusal for now (a 4xx
//!   answer, an unreachable server) comes back after a pause growing four
//!   times per attempt; a refusal for good (5xx), or the last attempt, marks
//!   the mail failed. A failed mail is logged and listed for admins on the
//!   users page; it never raises an incident (it is not the instance's fault).
//! - **Never twice.** Leasing a row marks it `sending` and counts the
//!   attempt in one statement, before anything reaches the SMTP server. If
//!   the server accepts the mail but its `sent` mark cannot be written (the
//!   process stops, the database is away), the row stays `sending` and, once
//!   its lease runs out, is marked failed with "delivery unknown" instead of
//!   being sent again: at most once, and an admin sees the doubtful ones.
//!   Every mail carries its outbox id as `Message-ID`.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentTransferEncoding;
use lettre::message::{Body, Mailbox, Message, header::ContentType};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Serialize;
use uuid::Uuid;

use super::{Runtime, RuntimeError};
use crate::engine::{self, Effect, Event};
use crate::store::entity::mail_outbox;
use crate::store::{
    EffectContext, MAIL_FAILED, MailFinish, MailPerson, NewMail, Store, Writes, to_db_time,
};

/// Attempts of one mail before it is given up.
pub const MAIL_ATTEMPTS: i32 = 8;
/// The pause after the first refused attempt (then four times longer each
/// time, at most [`MAIL_MAX_PAUSE`]).
const MAIL_FIRST_PAUSE: Duration = Duration::from_secs(2);
const MAIL_MAX_PAUSE: Duration = Duration::from_secs(3600);
/// How long one SMTP command may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a mail's lease lasts: longer than any send may take, since a
/// `sending` row whose lease ran out counts as delivered-or-not-unknown.
pub(crate) const MAIL_LEASE: Duration = Duration::from_secs(300);
/// How long a mail may wait to be sent before it is given up.
const MAIL_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// The most of an incident's message a mail quotes.
const MESSAGE_QUOTE: usize = 500;

/// The mail settings of `bpmn serve`.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtps://user:password@host`, or
    /// `smtp://host?tls=required` (STARTTLS).
    pub smtp_url: String,
    /// The sender: `bpmn@example.org` or `Workflow <bpmn@example.org>`.
    pub from: String,
    /// Where people reach this server (links in mails).
    pub public_url: String,
}

/// What sends notification mails: the SMTP transport and what mails say.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
    /// The public URL's host, for `Message-ID`s.
    host: String,
    /// The SMTP URL without its password, for logs.
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .field("public_url", &self.public_url)
            .finish()
    }
}

impl Mailer {
    /// Checks the settings and builds the transport (no connection yet).
    pub fn new(settings: &MailSettings) -> Result<Mailer, String> {
        let public_url = valid_public_url(&settings.public_url)?;
        let host = public_url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or_default()
            .split(['/', ':'])
            .next()
            .unwrap_or_default()
            .to_string();
        let from: Mailbox = settings.from.trim().parse().map_err(|e| {
            format!(
                "--mail-from: \"{}\" is not a mail address ({e}); write name@example.org or Name <name@example.org>",
                settings.from
            )
        })?;
        let server = super::redact_url(&settings.smtp_url);
        let scheme = settings.smtp_url.split("://").next().unwrap_or_default();
        if !matches!(scheme, "smtp" | "smtps") || !settings.smtp_url.contains("://") {
            return Err(format!(
                "--smtp-url: {server} is neither smtp://host:port nor smtps://host:port"
            ));
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
            .map_err(|e| format!("--smtp-url: {server}: {e}"))?
            .timeout(Some(SMTP_TIMEOUT));
        // The URL's path names the client in EHLO; by default our public host.
        let named = settings
            .smtp_url
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('/'))
            .is_some_and(|(_, path)| !path.split('?').next().unwrap_or_default().is_empty());
        if !named && !host.is_empty() {
            builder = builder.hello_name(ClientId::Domain(host.clone()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            public_url,
            host,
            server,
        })
    }

    /// The SMTP server, without its password.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The link to a path of this server.
    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// The footer every mail ends with.
    fn footer(&self) -> String {
        format!(
            "\n-- \nYou get this mail because of your account on {}.\nTo stop these mails, open {}\n",
            self.public_url,
            self.link("/account#notifications")
        )
    }

    /// The message of an outbox row.
    fn message(&self, row: &mail_outbox::Model) -> Result<Message, String> {
        let address: Address = row
            .address
            .parse()
            .map_err(|e| format!("the address \"{}\" is not valid: {e}", row.address))?;
        let body =
            Body::new_with_encoding(row.body.clone(), ContentTransferEncoding::QuotedPrintable)
                .map_err(|_| "the mail's text cannot be encoded".to_string())?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(row.recipient.clone()), address))
            .subject(one_line(&row.subject))
            .message_id(Some(format!("<{}@{}>", row.id, self.host)))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("the mail cannot be built: {e}"))
    }
}

/// Text for a header: one line.
fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The public URL (`http(s)://host[:port][/path]`) without a trailing slash,
/// or why it is not one.
pub fn valid_public_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        let host = r.split('/').next().unwrap_or_default();
        !host.is_empty()
            && !host.contains('@')
            && !r.contains(['?', '#', ' '])
            && !r.chars().any(char::is_control)
    });
    if ok {
        Ok(url.to_string())
    } else {
        Err(format!(
            "--public-url: \"{url}\" is not an address of this server like https://bpmn.example.org"
        ))
    }
}

/// An e-mail address as entered (trimmed), or why it is not one. Empty
/// means none.
pub fn valid_email(text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > 254 {
        return Err("the e-mail address is longer than 254 characters".into());
    }
    match text.parse::<Address>() {
        Ok(_) if !text.contains(char::is_whitespace) => Ok(Some(text.to_string())),
        _ => Err(format!(
            "\"{text}\" is not an e-mail address (write it as name@example.org)"
        )),
    }
}

/// A notification mail as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailView {
    pub id: Uuid,
    pub kind: String,
    pub recipient: String,
    pub address: String,
    pub subject: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<mail_outbox::Model> for MailView {
    fn from(m: mail_outbox::Model) -> MailView {
        MailView {
            id: m.id,
            kind: m.kind,
            recipient: m.recipient,
            address: m.address,
            subject: m.subject,
            state: m.state,
            attempts: m.attempts,
            last_error: m.last_error,
            created_at: m.created_at,
        }
    }
}

/// People to mail, once each, leaving out `actor`.
fn recipients(people: Vec<MailPerson>, actor: Option<&str>) -> Vec<MailPerson> {
    let mut seen = std::collections::HashSet::new();
    people
        .into_iter()
        .filter(|p| Some(p.name.as_str()) != actor && seen.insert(p.name.clone()))
        .collect()
}

impl Runtime {
    /// Sends notification mails through `mailer` (without one, none are
    /// written or sent).
    pub fn with_mailer(mut self, mailer: Mailer) -> Runtime {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// The mailer, when an SMTP server is configured.
    pub(crate) fn mailer(&self) -> Option<&Arc<Mailer>> {
        self.mailer.as_ref()
    }

    /// Whether this server sends notification mails.
    pub fn sends_mail(&self) -> bool {
        self.mailer.is_some()
    }

    /// Writes the mails a transition causes into the outbox, in its
    /// transaction (`first_seq`: the history number of its first event,
    /// which names the command in the mails' keys).
    pub(crate) async fn queue_mails(
        &self,
        w: &Writes<'_>,
        ctx: &EffectContext<'_>,
        first_seq: i64,
        tr: &engine::Transition,
    ) -> Result<(), RuntimeError> {
        let Some(mailer) = self.mailer() else {
            return Ok(());
        };
        // Who receives mail is read as committed (the command does not
        // write accounts); a task the command itself creates is named by
        // its effect.
        let db = self.store().connection();
        // A task that the same command also hands to someone (a create
        // listener setting the assignee) is that person's, not an offer.
        let assigned: std::collections::HashSet<u64> = tr
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::AssignUserTask {
                    key,
                    assignee: Some(_),
                } => Some(*key),
                _ => None,
            })
            .collect();
        let mut mails = Vec::new();
        for effect in &tr.effects {
            let (key, name, element, people, offered) = match effect {
                Effect::CreateUserTask(spec)
                    if spec.assignee.is_some() || !assigned.contains(&spec.key) =>
                {
                    let (people, offered) = match &spec.assignee {
                        Some(a) => (
                            Store::mail_people(db, std::slice::from_ref(a), &[]).await?,
                            false,
                        ),
                        None => (
                            Store::mail_people(db, &spec.candidate_users, &spec.candidate_groups)
                                .await?,
                            true,
                        ),
                    };
                    (
                        spec.key,
                        spec.name.clone(),
                        spec.element.clone(),
                        people,
                        offered,
                    )
                }
                Effect::AssignUserTask {
                    key,
                    assignee: Some(a),
                } if Some(a.as_str()) != ctx.user => {
                    let created = tr.effects.iter().find_map(|e| match e {
                        Effect::CreateUserTask(spec) if spec.key == *key => {
                            Some((spec.name.clone(), spec.element.clone()))
                        }
                        _ => None,
                    });
                    let named = match created {
                        Some(named) => Some(named),
                        None => Store::task_name_in(db, ctx.instance_id, *key as i64).await?,
                    };
                    let Some((name, element)) = named else {
                        continue;
                    };
                    let people = Store::mail_people(db, std::slice::from_ref(a), &[]).await?;
                    (*key, name, element, people, false)
                }
                _ => continue,
            };
            let task = engine::task_id(ctx.instance_id, key);
            let title = name.unwrap_or(element);
            let link = mailer.link(&format!("/tasks/{task}"));
            let kind = if offered {
                "task-offered"
            } else {
                "task-assigned"
            };
            for person in recipients(people, ctx.user) {
                let (subject, says) = if offered {
                    (
                        format!("Task \"{title}\" is waiting for you"),
                        "is offered to you (or a group of yours): whoever claims it first does it",
                    )
                } else {
                    (
                        format!("Task \"{title}\" is assigned to you"),
                        "is assigned to you",
                    )
                };
                let body = format!(
                    "Hello {},\n\nthe task \"{title}\" of process \"{}\" {says}.\n\nOpen it here:\n{link}\n{}",
                    person.name,
                    ctx.definition_key,
                    mailer.footer()
                );
                mails.push(NewMail {
                    dedup_key: format!("{kind}:{task}:{first_seq}:{}", person.name),
                    kind,
                    recipient: person.name,
                    address: person.address,
                    subject,
                    body,
                    instance_id: Some(ctx.instance_id),
                });
            }
        }
        let mut admins: Option<Vec<MailPerson>> = None;
        for event in &tr.events {
            let Event::IncidentRaised {
                incident,
                element,
                message,
                ..
            } = event
            else {
                continue;
            };
            let people = match &admins {
                Some(a) => a.clone(),
                None => {
                    let a = Store::mail_admins(db).await?;
                    admins = Some(a.clone());
                    a
                }
            };
            let link = mailer.link(&format!("/instances/{}", ctx.instance_id));
            let quoted: String = message.chars().take(MESSAGE_QUOTE).collect();
            for person in recipients(people, ctx.user) {
                mails.push(NewMail {
                    dedup_key: format!("incident:{}:{incident}:{}", ctx.instance_id, person.name),
                    kind: "incident",
                    recipient: person.name.clone(),
                    address: person.address,
                    subject: format!(
                        "Incident in process \"{}\" at \"{element}\"",
                        ctx.definition_key
                    ),
                    body: format!(
                        "Hello {},\n\nan instance of process \"{}\" stopped at \"{element}\" with an incident:\n\n{quoted}\n\nSee the instance (and retry it there):\n{link}\n{}",
                        person.name,
                        ctx.definition_key,
                        mailer.footer()
                    ),
                    instance_id: Some(ctx.instance_id),
                });
            }
        }
        // No `NOTIFY` for mails: on PostgreSQL it serialises commits, and a
        // mail may wait for the executors' next look (within a second).
        Store::queue_mails(w, mails, ctx.now)?;
        Ok(())
    }

    /// Marks failed the mails whose sender stopped before recording the
    /// SMTP server's answer (see the module's documentation).
    /// Also gives up mails still waiting after [`MAIL_MAX_AGE`] (written
    /// while an SMTP server was configured, and none is any more): nothing
    /// stays queued for ever.
    pub(crate) async fn sweep_mails(&self) -> Result<(), RuntimeError> {
        let now = to_db_time(self.lease_now());
        let swept = self.store().sweep_mails(now).await?;
        for m in swept {
            tracing::warn!(mail.id = %m.id, recipient = %m.recipient, kind = %m.kind, "a notification mail's delivery is unknown: its sender stopped before recording the SMTP server's answer; it is not sent again");
        }
        let before = now - chrono::Duration::from_std(MAIL_MAX_AGE).unwrap_or_default();
        let expired = self.store().expire_mails(before).await?;
        if expired > 0 {
            tracing::warn!(
                mails = expired,
                "notification mails waited more than a day to be sent and were given up"
            );
        }
        Ok(())
    }

    /// The mails that were not delivered, newest first.
    pub(crate) async fn undelivered_mails(
        &self,
        limit: u64,
    ) -> Result<Vec<MailView>, RuntimeError> {
        Ok(self
            .store()
            .mails(Some(MAIL_FAILED), limit)
            .await?
            .into_iter()
            .map(MailView::from)
            .collect())
    }
}

/// The pause before attempt `attempts + 1`.
fn retry_pause(attempts: i32) -> Duration {
    let n = attempts.clamp(1, 10) as u32 - 1;
    (MAIL_FIRST_PAUSE * 4u32.saturating_pow(n)).min(MAIL_MAX_PAUSE)
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    /// Refused for now; it comes back later.
    Retry(String),
    /// It will not be sent.
    Failed(String),
}

/// Sends a leased outbox row (outside any transaction) and records how it
/// went, while `owner` holds it.
pub(crate) async fn deliver(runtime: &Runtime, owner: &str, row: mail_outbox::Model) -> Delivered {
    let Some(mailer) = runtime.mailer() else {
        // Leased by an executor without SMTP: cannot happen (it leases no
        // mails), but if it did the mail must wait, not be lost.
        let finish = MailFinish::Retry {
            due: to_db_time(runtime.clock().now()),
            error: "no SMTP server is configured in the process that took it".into(),
        };
        let _ = runtime
            .store()
            .finish_mail(row.id, owner, &finish, to_db_time(runtime.clock().now()))
            .await;
        return Delivered::Retry("no SMTP server configured".into());
    };
    let outcome = match mailer.message(&row) {
        Err(e) => Delivered::Failed(e),
        Ok(message) => match mailer.transport.send(message).await {
            Ok(_) => Delivered::Sent,
            Err(e) if e.is_permanent() => {
                Delivered::Failed(format!("the SMTP server refused it: {e}"))
            }
            Err(e) if row.attempts >= MAIL_ATTEMPTS => {
                Delivered::Failed(format!("{e} (no attempts left after {})", row.attempts))
            }
            Err(e) => Delivered::Retry(e.to_string()),
        },
    };
    let now = to_db_time(runtime.clock().now());
    let finish = match &outcome {
        Delivered::Sent => MailFinish::Sent,
        Delivered::Retry(e) => MailFinish::Retry {
            due: now + chrono::Duration::from_std(retry_pause(row.attempts)).unwrap_or_default(),
            error: e.clone(),
        },
        Delivered::Failed(e) => MailFinish::Failed { error: e.clone() },
    };
    match &outcome {
        Delivered::Sent => {
            tracing::info!(mail.id = %row.id, recipient = %row.recipient, kind = %row.kind, "notification mail sent")
        }
        Delivered::Retry(e) => {
            tracing::info!(mail.id = %row.id, recipient = %row.recipient, attempt = row.attempts, error = %e, "notification mail refused for now; it is tried again later")
        }
        Delivered::Failed(e) => {
            tracing::warn!(mail.id = %row.id, recipient = %row.recipient, kind = %row.kind, error = %e, "notification mail not delivered; admins see it on the users page")
        }
    }
    // The answer is recorded even if the database needs a moment: a mail
    // whose `sent` mark is lost counts as of unknown delivery (never resent).
    for attempt in 0..3u32 {
        match runtime
            .store()
            .finish_mail(row.id, owner, &finish, now)
            .await
        {
            Ok(true) => break,
            Ok(false) => {
                tracing::warn!(mail.id = %row.id, "the lease of a notification mail ran out before its outcome was recorded");
                break;
            }
            Err(e) => {
                tracing::warn!(mail.id = %row.id, error = %e, "cannot record a notification mail's outcome");
                tokio::time::sleep(Duration::from_millis(500) * 2u32.pow(attempt)).await;
            }
        }
    }
    outcome
}
