//! `bpmn user add`, `bpmn user password` and `bpmn token create`: managing
//! accounts from the command line, as an operator with the database at hand.

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

/// Sets the password of the account `name`, read from the terminal (twice,
/// without echo) or from the first line of standard input; returns what to print.
pub async fn set_password(database_url: &str, name: &str) -> Result<String, String> {
    let password = read_new_password()?;
    let runtime = Runtime::connect(database_url, Arc::new(SystemClock))
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", redact_url(database_url)))?;
    match runtime
        .accounts()
        .set_password(&operator(), name, &password)
        .await
    {
        Ok(user) => Ok(format!(
            "Set the password of {}; their sessions have ended.",
            user.name
        )),
        Err(RuntimeError::NotFound(_)) => Err(format!("there is no user \"{name}\"")),
        Err(e) => Err(e.to_string()),
    }
}

/// The new password: typed twice at a terminal (not shown), or the first
/// line of standard input when it is not a terminal.
fn read_new_password() -> Result<String, String> {
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let line = read_line()?;
        if line.is_empty() {
            return Err("no password on standard input (one line is read)".into());
        }
        return Ok(line);
    }
    let first = prompt_hidden("New password: ")?;
    let second = prompt_hidden("The same again: ")?;
    if first != second {
        return Err("the two passwords differ; nothing was changed".into());
    }
    Ok(first)
}

/// One line of standard input without its line ending.
fn read_line() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Asks on stderr and reads a line from the terminal with echo turned off.
fn prompt_hidden(prompt: &str) -> Result<String, String> {
    use std::io::Write;
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let echo = EchoOff::new();
    let line = read_line();
    drop(echo);
    eprintln!();
    line
}

/// Turns the terminal's echo off for as long as it lives.
struct EchoOff {
    saved: Option<libc::termios>,
}

impl EchoOff {
    fn new() -> EchoOff {
        // SAFETY: `termios` is plain data; tcgetattr fills it for fd 0 or
        // fails, and tcsetattr only reads it.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut t) != 0 {
                return EchoOff { saved: None };
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t) != 0 {
                return EchoOff { saved: None };
            }
            EchoOff { saved: Some(saved) }
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            // SAFETY: restores the settings read in `new`.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, t);
            }
        }
    }
}
