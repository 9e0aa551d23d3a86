//! Accounts: users and their groups, password hashing (argon2), login with
//! throttling of failed attempts (per account and per address, kept in the
//! database so every process counts the same), the first admin account, and the
//! session key that every process must share.

use chrono::Utc;
use serde::Serialize;
use sha2::{Digest, Sha512};

use super::policy::{Action, Principal, Role};
use super::{Runtime, RuntimeError, require};
use crate::store::StoreError;
use crate::store::entity::app_user;

/// Failed attempts allowed before logins of that account or address slow down.
const FREE_FAILURES: i32 = 5;
/// The longest wait imposed after failed logins.
const MAX_WAIT_SECONDS: i64 = 15 * 60;
/// Quiet time after which failures are forgotten.
const FORGET_AFTER_MINUTES: i64 = 60;
/// Failed logins from one address before its logins slow down (an address
/// may stand for many people behind one proxy, so it is never locked out).
const ADDRESS_FREE_FAILURES: i32 = 20;
/// The longest an address's logins are held back.
const MAX_ADDRESS_DELAY: std::time::Duration = std::time::Duration::from_secs(5);
/// Password checks that may wait for their turn, per check running at once;
/// beyond that a login is turned away at once (each check holds ~19 MiB).
const QUEUE_PER_PERMIT: usize = 4;

/// Bounds the password checks (and hashes) running at once: argon2 is slow
/// and memory-hungry on purpose, and unbounded it lets a burst of wrong
/// passwords take the machine's memory.
pub(crate) struct PasswordGate {
    permits: tokio::sync::Semaphore,
    /// Checks running or waiting.
    in_line: std::sync::atomic::AtomicUsize,
    max_in_line: usize,
    /// Checks and hashes run so far.
    done: std::sync::atomic::AtomicU64,
}

impl PasswordGate {
    /// How many checks and hashes this gate has run.
    pub(crate) fn done(&self) -> u64 {
        self.done.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn new() -> PasswordGate {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 8);
        PasswordGate {
            permits: tokio::sync::Semaphore::new(n),
            in_line: std::sync::atomic::AtomicUsize::new(0),
            max_in_line: n * (1 + QUEUE_PER_PERMIT),
            done: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Runs `work` (argon2) on the blocking pool when its turn comes; `None`
    /// when too many are in line already.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        use std::sync::atomic::Ordering;
        if self.in_line.fetch_add(1, Ordering::SeqCst) >= self.max_in_line {
            self.in_line.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let result = async {
            let _permit = self.permits.acquire().await.ok()?;
            self.done.fetch_add(1, Ordering::Relaxed);
            super::metrics::PASSWORD_CHECKS.inc();
            tokio::task::spawn_blocking(work).await.ok()
        }
        .await;
        self.in_line.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub admin: bool,
    /// A service account for external workers and systems that send messages.
    pub worker: bool,
    pub disabled: bool,
    /// Sessions carry the epoch they were made in; bumping it ends them all.
    pub epoch: i64,
    /// The password is a one-time password an admin gave: the user must choose
    /// a new one before doing anything else.
    pub must_change_password: bool,
    pub groups: Vec<String>,
    /// Where notification mails go (none: no mail).
    pub email: Option<String>,
    /// Whether the user wants notification mails (they may opt out).
    pub notify: bool,
}

impl User {
    pub fn role(&self) -> Role {
        if self.admin {
            Role::Admin
        } else if self.worker {
            Role::Worker
        } else {
            Role::User
        }
    }

    /// This user as the principal of what they do.
    pub fn principal(&self) -> Principal {
        Principal::new(&self.name, self.groups.clone(), self.role())
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub password: String,
    pub groups: Vec<String>,
    pub role: Role,
}

/// A change of one's own password, as entered.
#[derive(Debug, Clone, Default)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
    /// The new password typed a second time.
    pub repeated: String,
}

/// What is wrong with one field of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: &'static str, message: &str) -> FieldProblem {
        FieldProblem {
            field,
            message: message.to_string(),
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => format!("{}{}.", c.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong user name or password")]
    Invalid,
    #[error("too many failed attempts; try again in {seconds} s")]
    Throttled { seconds: i64 },
    /// Too many passwords are being checked at once.
    #[error("too many logins at once; try again in a moment")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a user name: letters, digits and `. _ - @`, at most 64 characters.
pub fn valid_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("a user name has 1 to 64 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(format!(
            "\"{name}\" may only contain letters, digits and . _ - @"
        ));
    }
    Ok(())
}

/// Checks a new password: at least 8 characters.
pub fn valid_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 8 {
        return Err("the password needs at least 8 characters".into());
    }
    Ok(())
}

/// Checks a configured session key (`BPMN_SESSION_KEY`): at least 32 characters.
pub fn valid_session_key(key: &str) -> Result<(), String> {
    if key.chars().count() < 32 {
        return Err("BPMN_SESSION_KEY needs at least 32 characters".into());
    }
    Ok(())
}

/// Checks a group name: like a user name, but spaces are allowed (lane names).
pub fn valid_group(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.len() > 100 || name.contains(',') {
        return Err(format!(
            "\"{name}\" is not a group name (1 to 100 characters, no commas)"
        ));
    }
    Ok(())
}

/// Parses a comma-separated list of groups.
pub fn parse_groups(text: &str) -> Result<Vec<String>, String> {
    let mut groups: Vec<String> = Vec::new();
    for g in text.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        valid_group(g)?;
        if !groups.iter().any(|x| x == g) {
            groups.push(g.to_string());
        }
    }
    groups.sort();
    Ok(groups)
}

/// A random password of 20 letters and digits.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let bytes: [u8; 20] = rand::random();
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn hash(password: &str) -> Result<String, RuntimeError> {
    use argon2::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| RuntimeError::Rejected(format!("cannot hash the password: {e}")))
}

fn verify(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

impl Runtime {
    /// Hashes a password off the async threads, through the gate.
    async fn hash_password(&self, password: String) -> Result<String, RuntimeError> {
        self.password_gate
            .run(move || hash(&password))
            .await
            .unwrap_or_else(|| {
                Err(RuntimeError::Rejected(
                    "too many passwords are being hashed at once; try again".into(),
                ))
            })
    }
}

/// A hash that matches no password, verified for unknown names so that a
/// failed login takes as long whether or not the user exists.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&generate_password()).unwrap_or_default())
}

fn to_user(u: app_user::Model, groups: Vec<String>) -> User {
    User {
        id: u.id,
        name: u.name,
        admin: u.is_admin,
        worker: u.is_worker,
        disabled: u.disabled,
        epoch: u.session_epoch,
        must_change_password: u.must_change_password,
        groups,
        email: u.email,
        notify: !u.mail_opt_out,
    }
}

/// Accounts: logging in, one's own account, and (for admins) everyone's.
pub struct Accounts<'r> {
    rt: &'r Runtime,
}

impl Runtime {
    /// Accounts: authentication, own account, user management.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { rt: self }
    }

    /// Creates a user. The password must have at least 8 characters.
    async fn create_user(
        &self,
        name: &str,
        password: &str,
        groups: &[String],
        role: Role,
    ) -> Result<User, RuntimeError> {
        valid_name(name).map_err(RuntimeError::Rejected)?;
        valid_password(password).map_err(RuntimeError::Rejected)?;
        for g in groups {
            valid_group(g).map_err(RuntimeError::Rejected)?;
        }
        let hash = self.hash_password(password.to_string()).await?;
        let Some(row) = self
            .store()
            .insert_user(
                name,
                &hash,
                role == Role::Admin,
                role == Role::Worker,
                Utc::now(),
            )
            .await?
        else {
            return Err(RuntimeError::Conflict(format!(
                "the user name \"{name}\" is taken"
            )));
        };
        self.store().set_groups(row.id, groups).await?;
        Ok(to_user(row, groups.to_vec()))
    }

    /// A user by id, with groups.
    async fn user(&self, id: i64) -> Result<Option<User>, RuntimeError> {
        let found = self.store().user_with_groups(id).await?;
        Ok(found.map(|(u, groups)| to_user(u, groups)))
    }

    /// A user by name, with groups.
    async fn user_named(&self, name: &str) -> Result<Option<User>, RuntimeError> {
        let Some(u) = self.store().user_by_name(name).await? else {
            return Ok(None);
        };
        let groups = self.store().groups_of(u.id).await?;
        Ok(Some(to_user(u, groups)))
    }

    /// Every user, by name.
    async fn users(&self) -> Result<Vec<User>, RuntimeError> {
        let members = self.store().memberships().await?;
        let users = self.store().users().await?;
        Ok(users
            .into_iter()
            .map(|u| {
                let mut groups: Vec<String> = members
                    .iter()
                    .filter(|(id, _)| *id == u.id)
                    .map(|(_, g)| g.clone())
                    .collect();
                groups.sort();
                to_user(u, groups)
            })
            .collect())
    }

    /// Changes a user's role, state and groups. Disabling or demoting a user ends
    /// their sessions at once.
    async fn update_user(
        &self,
        id: i64,
        role: Role,
        disabled: bool,
        groups: &[String],
    ) -> Result<User, RuntimeError> {
        let admin = role == Role::Admin;
        let worker = role == Role::Worker;
        let before = self
            .user(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("user {id}")))?;
        for g in groups {
            valid_group(g).map_err(RuntimeError::Rejected)?;
        }
        // Whoever loses rights loses their sessions at once.
        let end_sessions = (disabled && !before.disabled) || before.role() != role;
        self.store()
            .update_user(id, admin, worker, disabled, end_sessions)
            .await?;
        self.store().set_groups(id, groups).await?;
        self.user(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("user {id}")))
    }

    /// Sets a new password and ends the user's sessions; `one_time`: it must be
    /// changed at the next login. Returns the user as they are now (with the
    /// new session epoch).
    async fn set_password(
        &self,
        id: i64,
        password: &str,
        one_time: bool,
    ) -> Result<User, RuntimeError> {
        valid_password(password).map_err(RuntimeError::Rejected)?;
        let hash = self.hash_password(password.to_string()).await?;
        if self
            .store()
            .set_password(id, &hash, one_time)
            .await?
            .is_none()
        {
            return Err(RuntimeError::NotFound(format!("user {id}")));
        }
        self.user(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("user {id}")))
    }

    /// Ends every session of a user (logout).
    async fn end_sessions(&self, id: i64) -> Result<(), RuntimeError> {
        self.store().end_sessions(id).await?;
        Ok(())
    }

    /// Checks a login. Every attempt on an account is counted *before* its
    /// password is checked (atomically, in the database): after a few, the
    /// account must wait longer and longer between attempts (up to 15
    /// minutes), however many requests or processes try at once. An address
    /// with many failures is slowed down, never locked out: other people's
    /// correct passwords behind the same proxy still work.
    async fn authenticate(
        &self,
        name: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<User, LoginError> {
        let now = Utc::now();
        let forget = chrono::Duration::minutes(FORGET_AFTER_MINUTES);
        let account = format!("user:{}", name.to_lowercase());
        let mut claimed = false;
        for _ in 0..16 {
            let seen = self.store().login_failures(&account).await?;
            let count = match &seen {
                Some(f) if now - f.last_failure_at < forget => f.failures,
                _ => 0,
            };
            if let Some(f) = &seen
                && count >= FREE_FAILURES
            {
                let wait = 2i64
                    .saturating_pow((count - FREE_FAILURES) as u32)
                    .min(MAX_WAIT_SECONDS);
                let allowed = f.last_failure_at + chrono::Duration::seconds(wait);
                if now < allowed {
                    return Err(LoginError::Throttled {
                        seconds: (allowed - now).num_seconds().max(1),
                    });
                }
            }
            if self
                .store()
                .claim_login_attempt(&account, seen.as_ref(), count + 1, now)
                .await?
            {
                claimed = true;
                break;
            }
        }
        if !claimed {
            // Many attempts at this very moment: the others are being checked.
            return Err(LoginError::Throttled { seconds: 1 });
        }
        let place = address.map(|a| format!("addr:{a}"));
        if let Some(place) = &place
            && let Some(f) = self.store().login_failures(place).await?
            && now - f.last_failure_at < forget
            && f.failures > ADDRESS_FREE_FAILURES
        {
            let excess = (f.failures - ADDRESS_FREE_FAILURES).min(16) as u32;
            let delay = std::time::Duration::from_millis(50u64 << excess).min(MAX_ADDRESS_DELAY);
            tokio::time::sleep(delay).await;
        }
        let user = self.store().user_by_name(name).await?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let password = password.to_string();
        let ok = self
            .password_gate
            .run(move || {
                // Unknown names are checked against a decoy, so that a failed
                // login takes as long whether or not the user exists.
                verify(&password, hash.as_deref().unwrap_or_else(|| decoy_hash()))
            })
            .await
            .ok_or(LoginError::Busy)?;
        match user {
            Some(u) if ok && !u.disabled => {
                self.store().clear_login_failures(&account).await?;
                let groups = self.store().groups_of(u.id).await?;
                Ok(to_user(u, groups))
            }
            _ => {
                if let Some(place) = &place {
                    self.store()
                        .record_login_failure(place, now, forget)
                        .await?;
                }
                Err(LoginError::Invalid)
            }
        }
    }

    /// On an empty database, creates the `admin` account. Returns the password
    /// when it was generated (to be shown once).
    async fn ensure_admin(&self, password: Option<&str>) -> Result<Option<String>, RuntimeError> {
        if self.store().user_count().await? > 0 {
            return Ok(None);
        }
        let (password, generated) = match password {
            Some(p) if !p.is_empty() => (p.to_string(), false),
            _ => (generate_password(), true),
        };
        match self.create_user("admin", &password, &[], Role::Admin).await {
            Ok(_) => Ok(generated.then_some(password)),
            // Another process created it first.
            Err(RuntimeError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The key that signs and encrypts session cookies: from `configured` (at
    /// least 32 characters, stretched with SHA-512), or generated once and kept in
    /// the database, so that every process uses the same one.
    async fn session_key(&self, configured: Option<&str>) -> Result<Vec<u8>, RuntimeError> {
        if let Some(k) = configured.filter(|k| !k.is_empty()) {
            valid_session_key(k).map_err(RuntimeError::Rejected)?;
            return Ok(Sha512::digest(k.as_bytes()).to_vec());
        }
        let fresh: [u8; 64] = rand::random();
        let fresh: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
        let stored = self
            .store()
            .setting_or_insert("session_key", &fresh)
            .await?;
        let bytes: Vec<u8> = (0..stored.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(stored.get(i..i + 2)?, 16).ok())
            .collect();
        if bytes.len() < 64 {
            return Err(RuntimeError::Corrupt(
                "the stored session key is damaged".into(),
            ));
        }
        Ok(bytes)
    }
}

/// A token as shown to its owner (never the secret after creation).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: uuid::Uuid,
    pub name: String,
    pub created_at: chrono::DateTime<Utc>,
    pub last_used_at: Option<chrono::DateTime<Utc>>,
    pub revoked: bool,
}

fn token_hash(token: &str) -> String {
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Runtime {
    /// Creates an API token for a user; the secret is returned only now.
    async fn create_token(
        &self,
        user_id: i64,
        name: &str,
    ) -> Result<(TokenInfo, String), RuntimeError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(RuntimeError::Rejected(
                "a token needs a name of 1 to 100 characters".into(),
            ));
        }
        let bytes: [u8; 32] = rand::random();
        let secret = format!(
            "bpmn_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let row = self
            .store()
            .insert_token(user_id, name, &token_hash(&secret), Utc::now())
            .await?;
        Ok((
            TokenInfo {
                id: row.id,
                name: row.name,
                created_at: row.created_at,
                last_used_at: None,
                revoked: false,
            },
            secret,
        ))
    }

    /// The user a bearer token belongs to (a live token of an enabled user).
    async fn user_by_token(&self, token: &str) -> Result<Option<User>, RuntimeError> {
        let Some(((user, groups), used)) =
            self.store().token_user(&token_hash(token.trim())).await?
        else {
            return Ok(None);
        };
        // "Last used" is kept to the minute: writing it on every request would
        // make each read a write transaction.
        let now = Utc::now();
        if used
            .last_used_at
            .is_none_or(|t| now - t > chrono::Duration::seconds(60))
        {
            self.store().touch_token(used.id, now).await?;
        }
        Ok(Some(to_user(user, groups)).filter(|u| !u.disabled))
    }

    /// A user's tokens.
    async fn tokens(&self, user_id: i64) -> Result<Vec<TokenInfo>, RuntimeError> {
        Ok(self
            .store()
            .tokens_of(user_id)
            .await?
            .into_iter()
            .map(|t| TokenInfo {
                id: t.id,
                name: t.name,
                created_at: t.created_at,
                last_used_at: t.last_used_at,
                revoked: t.revoked_at.is_some(),
            })
            .collect())
    }

    /// Revokes one of a user's own tokens.
    async fn revoke_token(&self, user_id: i64, id: uuid::Uuid) -> Result<(), RuntimeError> {
        if self.store().revoke_token(user_id, id, Utc::now()).await? {
            Ok(())
        } else {
            Err(RuntimeError::NotFound(format!("token {id}")))
        }
    }
}

impl Accounts<'_> {
    /// Checks a login. After a few failures, the account and the address must
    /// wait longer and longer between attempts (up to 15 minutes).
    pub async fn authenticate(
        &self,
        name: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<User, LoginError> {
        self.rt.authenticate(name, password, address).await
    }

    /// The user of a session: enabled, and the session made in the user's
    /// current epoch (logging out, disabling or demoting bumps it).
    pub async fn session_user(&self, id: i64, epoch: i64) -> Result<Option<User>, RuntimeError> {
        Ok(self
            .rt
            .user(id)
            .await?
            .filter(|u| !u.disabled && u.epoch == epoch))
    }

    /// The user a bearer token belongs to (a live token of an enabled user).
    pub async fn token_user(&self, token: &str) -> Result<Option<User>, RuntimeError> {
        self.rt.user_by_token(token).await
    }

    /// Ends every session of the user (logout).
    pub async fn log_out(&self, who: &User) -> Result<(), RuntimeError> {
        require(&who.principal(), Action::ManageOwnAccount)?;
        self.rt.end_sessions(who.id).await
    }

    /// The user's own API tokens.
    pub async fn tokens(&self, who: &User) -> Result<Vec<TokenInfo>, RuntimeError> {
        require(&who.principal(), Action::ManageOwnAccount)?;
        self.rt.tokens(who.id).await
    }

    /// Creates an API token for the user; the secret is returned only now.
    pub async fn create_token(
        &self,
        who: &User,
        name: &str,
    ) -> Result<(TokenInfo, String), RuntimeError> {
        require(&who.principal(), Action::ManageOwnAccount)?;
        self.rt.create_token(who.id, name).await
    }

    /// Revokes one of the user's own tokens.
    pub async fn revoke_token(&self, who: &User, id: uuid::Uuid) -> Result<(), RuntimeError> {
        require(&who.principal(), Action::ManageOwnAccount)?;
        self.rt.revoke_token(who.id, id).await
    }

    /// Sets the user's own e-mail address (empty: none) and whether they
    /// want notification mails; a bad address is refused by field.
    pub async fn set_own_mail(
        &self,
        who: &User,
        email: &str,
        notify: bool,
    ) -> Result<Result<(), Vec<FieldProblem>>, RuntimeError> {
        require(&who.principal(), Action::ManageOwnAccount)?;
        let email = match super::mail::valid_email(email) {
            Ok(e) => e,
            Err(message) => return Ok(Err(vec![FieldProblem::new("email", &message)])),
        };
        if !self
            .rt
            .store()
            .set_user_mail(who.id, email.as_deref(), !notify)
            .await?
        {
            return Err(RuntimeError::NotFound(format!("user {}", who.name)));
        }
        Ok(Ok(()))
    }

    /// Sets an account's e-mail address (empty: none), keeping its choice
    /// about notifications.
    pub async fn set_user_email(
        &self,
        who: &Principal,
        id: i64,
        email: &str,
    ) -> Result<User, RuntimeError> {
        require(who, Action::ManageUsers)?;
        let target = self
            .rt
            .user(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("user {id}")))?;
        let email = super::mail::valid_email(email).map_err(|e| {
            RuntimeError::Rejected(format!("e-mail address of {}: {e}", target.name))
        })?;
        self.rt
            .store()
            .set_user_mail(id, email.as_deref(), !target.notify)
            .await?;
        self.rt
            .user(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("user {id}")))
    }

    /// The notification mails that were not delivered, newest first (admins).
    pub async fn undelivered_mails(
        &self,
        who: &Principal,
        limit: u64,
    ) -> Result<Vec<super::MailView>, RuntimeError> {
        require(who, Action::ManageUsers)?;
        self.rt.undelivered_mails(limit).await
    }

    /// Every account, by name.
    pub async fn users(&self, who: &Principal) -> Result<Vec<User>, RuntimeError> {
        require(who, Action::ManageUsers)?;
        self.rt.users().await
    }

    /// An account by name.
    pub async fn user_named(
        &self,
        who: &Principal,
        name: &str,
    ) -> Result<Option<User>, RuntimeError> {
        require(who, Action::ManageUsers)?;
        self.rt.user_named(name).await
    }

    /// Adds an account.
    pub async fn create_user(&self, who: &Principal, new: &NewUser) -> Result<User, RuntimeError> {
        require(who, Action::ManageUsers)?;
        self.rt
            .create_user(new.name.trim(), &new.password, &new.groups, new.role)
            .await
    }

    /// Changes an account's role, state and groups. Disabling a user or
    /// changing their role ends their sessions at once. Admins cannot demote
    /// or disable themselves.
    pub async fn update_user(
        &self,
        who: &Principal,
        id: i64,
        role: Role,
        disabled: bool,
        groups: &[String],
    ) -> Result<User, RuntimeError> {
        require(who, Action::ManageUsers)?;
        let target = self
            .rt
            .user(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("user {id}")))?;
        if target.name == who.name && (role != Role::Admin || disabled) {
            return Err(RuntimeError::Rejected(
                "you cannot demote or disable yourself; ask another admin".into(),
            ));
        }
        self.rt.update_user(id, role, disabled, groups).await
    }

    /// Gives an account a generated one-time password (returned, to be shown
    /// once): the user must choose a new one at their next login. Ends their
    /// sessions; their API tokens stay. Admins change their own password on
    /// their account page instead.
    pub async fn reset_password(
        &self,
        who: &Principal,
        id: i64,
    ) -> Result<(User, String), RuntimeError> {
        require(who, Action::ResetPassword)?;
        let target = self
            .rt
            .user(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("user {id}")))?;
        if target.name == who.name {
            return Err(RuntimeError::Rejected(
                "change your own password on your account page".into(),
            ));
        }
        let password = generate_password();
        let user = self.rt.set_password(id, &password, true).await?;
        Ok((user, password))
    }

    /// Sets the password of the account named `name` (the command line): the
    /// account's sessions end, its API tokens stay.
    pub async fn set_password(
        &self,
        who: &Principal,
        name: &str,
        password: &str,
    ) -> Result<User, RuntimeError> {
        require(who, Action::ResetPassword)?;
        let target = self
            .rt
            .user_named(name)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("user \"{name}\"")))?;
        self.rt.set_password(target.id, password, false).await
    }

    /// Changes the user's own password: `current` must be right (it counts as
    /// a login attempt, throttled alike), `new` must be a valid password, differ
    /// from the current one, and equal `repeated`. Every problem is named by its
    /// field and nothing changes; on success the user's other sessions end and
    /// the returned user carries the new session epoch (for the session that
    /// changed it).
    pub async fn change_password(
        &self,
        who: &User,
        change: &PasswordChange,
        address: Option<&str>,
    ) -> Result<Result<User, Vec<FieldProblem>>, RuntimeError> {
        require(&who.principal(), Action::ChangeOwnPassword)?;
        let mut problems = Vec::new();
        if change.current.is_empty() {
            problems.push(FieldProblem::new("current", "Enter your current password."));
        }
        if let Err(e) = valid_password(&change.new) {
            problems.push(FieldProblem::new("new", &capitalised(&e)));
        } else if change.new == change.current {
            problems.push(FieldProblem::new(
                "new",
                "The new password must differ from the current one.",
            ));
        }
        if change.repeated != change.new {
            problems.push(FieldProblem::new(
                "repeated",
                "This differs from the new password above.",
            ));
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        match self
            .rt
            .authenticate(&who.name, &change.current, address)
            .await
        {
            Ok(_) => {}
            Err(LoginError::Invalid) => {
                return Ok(Err(vec![FieldProblem::new(
                    "current",
                    "This is not your current password.",
                )]));
            }
            Err(LoginError::Throttled { seconds }) => {
                return Ok(Err(vec![FieldProblem::new(
                    "current",
                    &format!("Too many wrong attempts. Try again in {seconds} seconds."),
                )]));
            }
            Err(LoginError::Busy) => {
                return Ok(Err(vec![FieldProblem::new(
                    "current",
                    "Too many passwords are being checked right now. Try again in a moment.",
                )]));
            }
            Err(LoginError::Store(e)) => return Err(e.into()),
        }
        Ok(Ok(self.rt.set_password(who.id, &change.new, false).await?))
    }

    /// Creates an API token for the account named `user`.
    pub async fn create_token_for(
        &self,
        who: &Principal,
        user: &str,
        name: &str,
    ) -> Result<(TokenInfo, String), RuntimeError> {
        require(who, Action::ManageUsers)?;
        let u = self
            .rt
            .user_named(user)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("user \"{user}\"")))?;
        self.rt.create_token(u.id, name).await
    }

    /// On an empty database, creates the `admin` account (at start-up).
    /// Returns the password when it was generated (to be shown once).
    pub async fn ensure_admin(
        &self,
        password: Option<&str>,
    ) -> Result<Option<String>, RuntimeError> {
        self.rt.ensure_admin(password).await
    }

    /// The key that signs and encrypts session cookies (at start-up): from
    /// `configured`, or generated once and kept in the database so that
    /// every process uses the same one.
    pub async fn session_key(&self, configured: Option<&str>) -> Result<Vec<u8>, RuntimeError> {
        self.rt.session_key(configured).await
    }
}
