//! The tokens of one `${...}` (or `#{...}`) section, as JUEL's scanner cuts
//! them: reserved words become operators, numbers become Long or Double
//! literals, strings lose their quotes and escapes. Scanning stops at the
//! first `}` outside a string, which closes the section (EL 2.2 has no other
//! use for braces).

use super::ElError;

/// One token kind.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Long(i64),
    Double(f64),
    Str(String),
    Ident(String),
    True,
    False,
    Null,
    Empty,
    Not,
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Plus,
    Minus,
    Mul,
    Div,
    Mod,
    Instanceof,
    Question,
    Colon,
    Dot,
    Comma,
    LParen,
    RParen,
    LBrack,
    RBrack,
    /// The `}` that ends the section.
    End,
    /// The text ended before the section was closed.
    Eof,
}

/// A token and where it stands in the whole expression text (byte offsets).
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// How a syntax error names this token.
    pub fn describe(&self, src: &str) -> String {
        match self.tok {
            Tok::Eof => "end of text".to_string(),
            Tok::End => "'}'".to_string(),
            _ => format!("'{}'", src.get(self.start..self.end).unwrap_or("?")),
        }
    }
}

/// `Character.isWhitespace`: Unicode white space without the no-break spaces,
/// plus the four ASCII separators Java counts.
fn is_java_whitespace(c: char) -> bool {
    (c.is_whitespace() && !matches!(c, '\u{A0}' | '\u{2007}' | '\u{202F}'))
        || ('\u{1C}'..='\u{1F}').contains(&c)
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_part(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Scans from `start` (just after `${`) up to and including the closing `}`;
/// the last token is `End`, or `Eof` when the text ends first.
pub(super) fn scan(src: &str, start: usize) -> Result<Vec<Token>, ElError> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = start;
    loop {
        while let Some(c) = src.get(i..).and_then(|s| s.chars().next()) {
            if !is_java_whitespace(c) {
                break;
            }
            i += c.len_utf8();
        }
        let Some(c) = src.get(i..).and_then(|s| s.chars().next()) else {
            tokens.push(Token {
                tok: Tok::Eof,
                start: src.len(),
                end: src.len(),
            });
            return Ok(tokens);
        };
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        let fixed = |tok: Tok, len: usize| (tok, len);
        let (tok, len) = match c {
            '}' => {
                tokens.push(Token {
                    tok: Tok::End,
                    start: i,
                    end: i + 1,
                });
                return Ok(tokens);
            }
            '*' => fixed(Tok::Mul, 1),
            '/' => fixed(Tok::Div, 1),
            '%' => fixed(Tok::Mod, 1),
            '+' => fixed(Tok::Plus, 1),
            '-' => fixed(Tok::Minus, 1),
            '?' => fixed(Tok::Question, 1),
            ':' => fixed(Tok::Colon, 1),
            '[' => fixed(Tok::LBrack, 1),
            ']' => fixed(Tok::RBrack, 1),
            '(' => fixed(Tok::LParen, 1),
            ')' => fixed(Tok::RParen, 1),
            ',' => fixed(Tok::Comma, 1),
            '.' if !next.is_ascii_digit() => fixed(Tok::Dot, 1),
            '=' if next == b'=' => fixed(Tok::Eq, 2),
            '&' if next == b'&' => fixed(Tok::And, 2),
            '|' if next == b'|' => fixed(Tok::Or, 2),
            '!' if next == b'=' => fixed(Tok::Ne, 2),
            '!' => fixed(Tok::Not, 1),
            '<' if next == b'=' => fixed(Tok::Le, 2),
            '<' => fixed(Tok::Lt, 1),
            '>' if next == b'=' => fixed(Tok::Ge, 2),
            '>' => fixed(Tok::Gt, 1),
            '\'' | '"' => string(src, i, c)?,
            c if c.is_ascii_digit() || c == '.' => number(src, i)?,
            c if is_ident_start(c) => {
                let rest = &src[i..];
                let len = rest
                    .char_indices()
                    .find(|&(_, ch)| !is_ident_part(ch))
                    .map_or(rest.len(), |(n, _)| n);
                (keyword(&rest[..len]), len)
            }
            c => {
                return Err(ElError::at(
                    src,
                    i,
                    format!("invalid character '{c}' in an expression"),
                ));
            }
        };
        tokens.push(Token {
            tok,
            start: i,
            end: i + len,
        });
        i += len;
    }
}

fn keyword(word: &str) -> Tok {
    match word {
        "null" => Tok::Null,
        "true" => Tok::True,
        "false" => Tok::False,
        "empty" => Tok::Empty,
        "div" => Tok::Div,
        "mod" => Tok::Mod,
        "not" => Tok::Not,
        "and" => Tok::And,
        "or" => Tok::Or,
        "le" => Tok::Le,
        "lt" => Tok::Lt,
        "eq" => Tok::Eq,
        "ne" => Tok::Ne,
        "ge" => Tok::Ge,
        "gt" => Tok::Gt,
        "instanceof" => Tok::Instanceof,
        _ => Tok::Ident(word.to_string()),
    }
}

/// A string literal: only `\\` and a backslash before the literal's own
/// quote are escapes, as in JUEL's scanner; any other escape is an error.
fn string(src: &str, start: usize, quote: char) -> Result<(Tok, usize), ElError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((n, c)) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some((_, e)) if e == '\\' || e == quote => out.push(e),
                Some((_, e)) => {
                    return Err(ElError::at(
                        src,
                        start,
                        format!(
                            "invalid escape sequence \\{e} in a string (only \\{quote} and \\\\ are escapes)"
                        ),
                    ));
                }
                None => break,
            }
        } else if c == quote {
            return Ok((Tok::Str(out), n + 2));
        } else {
            out.push(c);
        }
    }
    Err(ElError::at(src, start, "unterminated string"))
}

/// An integer (`[0-9]+`) is a Long; with a fraction or an exponent it is a
/// Double. An integer too large for a Long is a syntax error, as in JUEL.
fn number(src: &str, start: usize) -> Result<(Tok, usize), ElError> {
    let b = src.as_bytes();
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = digits(start);
    let mut float = false;
    if b.get(i) == Some(&b'.') {
        i = digits(i + 1);
        float = true;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            i = digits(j);
            float = true;
        }
    }
    let text = &src[start..i];
    let tok = if float {
        match text.parse::<f64>() {
            Ok(d) => Tok::Double(d),
            Err(_) => return Err(ElError::at(src, start, format!("invalid number {text}"))),
        }
    } else {
        match text.parse::<i64>() {
            Ok(n) => Tok::Long(n),
            Err(_) => {
                return Err(ElError::at(
                    src,
                    start,
                    format!("the integer {text} is too large for a Long"),
                ));
            }
        }
    };
    Ok((tok, i - start))
}
