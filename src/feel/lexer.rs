//! The FEEL lexer: text to tokens with byte offsets.

use super::FeelError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Int(i64),
    Num(f64),
    Str(String),
    Name(String),
    LParen,
    RParen,
    LBrack,
    RBrack,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Dot,
    DotDot,
    Plus,
    Minus,
    Star,
    Slash,
    StarStar,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Question,
    Eof,
}

pub(super) fn lex(text: &str) -> Result<Vec<(Tok, usize)>, FeelError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let next = bytes.get(i + 1).copied();
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if next == Some(b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if next == Some(b'*') => {
                match text[i + 2..].find("*/") {
                    Some(end) => i += end + 4,
                    None => {
                        return Err(FeelError::parse_error(text, i, "unterminated comment"));
                    }
                }
                continue;
            }
            b'"' => {
                let (s, end) = lex_string(text, i)?;
                i = end;
                out.push((Tok::Str(s), start));
                continue;
            }
            b'0'..=b'9' => {
                let (tok, end) = lex_number(text, i)?;
                i = end;
                out.push((tok, start));
                continue;
            }
            b'.' if next == Some(b'.') => {
                i += 2;
                Tok::DotDot
            }
            b'.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                let (tok, end) = lex_number(text, i)?;
                i = end;
                out.push((tok, start));
                continue;
            }
            b'.' => one(&mut i, Tok::Dot),
            b'(' => one(&mut i, Tok::LParen),
            b')' => one(&mut i, Tok::RParen),
            b'[' => one(&mut i, Tok::LBrack),
            b']' => one(&mut i, Tok::RBrack),
            b'{' => one(&mut i, Tok::LBrace),
            b'}' => one(&mut i, Tok::RBrace),
            b',' => one(&mut i, Tok::Comma),
            b':' => one(&mut i, Tok::Colon),
            b'+' => one(&mut i, Tok::Plus),
            b'-' => one(&mut i, Tok::Minus),
            b'?' => one(&mut i, Tok::Question),
            b'/' => one(&mut i, Tok::Slash),
            b'*' if next == Some(b'*') => {
                i += 2;
                Tok::StarStar
            }
            b'*' => one(&mut i, Tok::Star),
            b'=' => one(&mut i, Tok::Eq),
            b'!' if next == Some(b'=') => {
                i += 2;
                Tok::Ne
            }
            b'<' if next == Some(b'=') => {
                i += 2;
                Tok::Le
            }
            b'<' => one(&mut i, Tok::Lt),
            b'>' if next == Some(b'=') => {
                i += 2;
                Tok::Ge
            }
            b'>' => one(&mut i, Tok::Gt),
            _ => {
                let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
                if ch.is_alphabetic() || ch == '_' || ch == '$' {
                    let rest = &text[i..];
                    let len = rest
                        .char_indices()
                        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$'))
                        .map(|(at, _)| at)
                        .unwrap_or(rest.len());
                    i += len;
                    Tok::Name(rest[..len].to_string())
                } else {
                    return Err(FeelError::parse_error(
                        text,
                        i,
                        format!("unexpected character '{ch}'"),
                    ));
                }
            }
        };
        out.push((tok, start));
    }
    out.push((Tok::Eof, text.len()));
    Ok(out)
}

fn one(i: &mut usize, tok: Tok) -> Tok {
    *i += 1;
    tok
}

fn lex_string(text: &str, start: usize) -> Result<(String, usize), FeelError> {
    let mut s = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((s, start + 1 + at + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => s.push('\n'),
                Some((_, 't')) => s.push('\t'),
                Some((_, 'r')) => s.push('\r'),
                Some((_, 'u')) => {
                    let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => s.push(ch),
                        None => {
                            return Err(FeelError::parse_error(
                                text,
                                start + 1 + at,
                                "bad \\u escape in a string",
                            ));
                        }
                    }
                }
                Some((_, other)) => s.push(other),
                None => break,
            },
            _ => s.push(c),
        }
    }
    Err(FeelError::parse_error(text, start, "unterminated string"))
}

fn lex_number(text: &str, start: usize) -> Result<(Tok, usize), FeelError> {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let mut decimal = false;
    if i < bytes.len() && bytes[i] == b'.' && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()) {
        decimal = true;
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    let s = &text[start..i];
    if !decimal && let Ok(n) = s.parse::<i64>() {
        return Ok((Tok::Int(n), i));
    }
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok((Tok::Num(n), i)),
        _ => Err(FeelError::parse_error(text, start, "number out of range")),
    }
}

pub(super) fn tok_text(t: &Tok) -> &'static str {
    match t {
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::LBrack => "[",
        Tok::RBrack => "]",
        Tok::LBrace => "{",
        Tok::RBrace => "}",
        Tok::Comma => ",",
        Tok::Colon => ":",
        Tok::Dot => ".",
        Tok::DotDot => "..",
        Tok::Plus => "+",
        Tok::Minus => "-",
        Tok::Star => "*",
        Tok::Slash => "/",
        Tok::StarStar => "**",
        Tok::Eq => "=",
        Tok::Ne => "!=",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::Question => "?",
        Tok::Eof => "end of text",
        Tok::Int(_) | Tok::Num(_) => "number",
        Tok::Str(_) => "string",
        Tok::Name(_) => "name",
    }
}
