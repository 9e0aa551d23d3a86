//! `bpmn user add` and `bpmn token create`: managing accounts from the
//! command line, as an operator with the database at hand.

use std::sync::Arc;

use crate::runtime::accounts::{generate_password, parse_groups};
use crate::runtime::{NewUser, Principal, Role, Runtime, RuntimeError, SystemClock, redact_url};

/// Who the command line acts as.
fn operator() -> Principal {
    Principal::operator("command line")
}

/// Adds an account; returns what to print (with the password when it was generated).
pub async fn add_user(
    database_url: &str,
    name: &str,
    password: Option<String>,
    groups: &str,
    role: Role,
) -> Result<String, String> {
    let runtime = Runtime::connect(database_url, Arc::new(SystemClock))
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", redact_url(database_url)))?;
    let groups = parse_groups(groups)?;
    let (password, generated) = match password {
        Some(p) => (p, false),
        None => (generate_password(), true),
    };
    let user = runtime
        .accounts()
        .create_user(
            &operator(),
            &NewUser {
                name: name.to_string(),
                password: password.clone(),
                groups: groups.clone(),
                role,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut out = format!(
        "Added {}{}{}.",
        user.name,
        match user.role() {
            Role::Admin => " (admin)",
            Role::Worker => " (worker)",
            Role::User => "",
        },
        if groups.is_empty() {
            String::new()
        } else {
            format!(" in {}", groups.join(", "))
        }
    );
    if generated {
        out.push_str(&format!("\nPassword: {password}"));
    }
    Ok(out)
}

/// Creates an API token for the account named `user`; returns its secret.
pub async fn create_token(database_url: &str, user: &str, name: &str) -> Result<String, String> {
    let runtime = Runtime::connect(database_url, Arc::new(SystemClock))
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", redact_url(database_url)))?;
    match runtime
        .accounts()
        .create_token_for(&operator(), user, name)
        .await
    {
        Ok((_, secret)) => Ok(secret),
        Err(RuntimeError::NotFound(_)) => Err(format!("there is no user \"{user}\"")),
        Err(e) => Err(e.to_string()),
    }
}
